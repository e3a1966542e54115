package sample.retransform;

import io.jvmem.allocator.MemoryPool;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Allocates through {@link Target}'s three sites on one thread while the main thread retransforms {@code Target}
 * {@code args[0]} times through {@link Retransformer}'s {@link java.lang.instrument.Instrumentation}; then allocates
 * {@code args[1]} more rounds. Every buffer is filled and checked, and must lie in pool {@code args[2]}. Prints
 * {@code retransforms= call= reference= handle= outside= trampolinesBefore= trampolinesAfter= advised=}: the
 * allocations at each site, buffers outside the pool, the agent's trampoline classes before and after the loop, and
 * whether the other agent's advice ran.
 */
public final class RetransformMain {
    private RetransformMain() {
    }

    public static void main(String[] args) throws Throwable {
        int retransforms = Integer.parseInt(args[0]);
        int after = Integer.parseInt(args[1]);
        MemoryPool pool = io.jvmem.agent.Jvmem.pool(args[2]);
        long[] counts = new long[4]; // call, reference, handle, outside the pool
        round(pool, counts, 0); // every site linked and its trampoline made before counting them
        int trampolinesBefore = trampolines();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread allocator = Thread.ofPlatform().name("allocator").start(() -> {
            try {
                for (int i = 1; !stop.get(); i++) {
                    round(pool, counts, i);
                    Thread.sleep(1);
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        for (int i = 0; i < retransforms && failure.get() == null; i++) {
            Retransformer.inst.retransformClasses(Target.class);
        }
        stop.set(true);
        allocator.join();
        if (failure.get() != null) {
            throw failure.get();
        }
        for (int i = 0; i < after; i++) {
            round(pool, counts, -i);
        }
        System.out.println("retransforms=" + retransforms + " call=" + counts[0] + " reference=" + counts[1] + " handle="
                + counts[2] + " outside=" + counts[3] + " trampolinesBefore=" + trampolinesBefore + " trampolinesAfter="
                + trampolines() + " advised=" + (Probe.HITS.sum() > 0 ? 1 : 0));
    }

    /** One buffer from each site, filled and checked; counted per site (only the allocator thread and main, in turn). */
    private static void round(MemoryPool pool, long[] counts, int seed) throws Throwable {
        ByteBuffer[] buffers = {Target.call(1024 + seed % 512), Target.reference(2048), Target.handle(4096)};
        for (int s = 0; s < buffers.length; s++) {
            ByteBuffer b = buffers[s];
            for (int i = 0; i < b.capacity(); i++) {
                b.put(i, (byte) (seed * 31 + i * 7 + s));
            }
            for (int i = 0; i < b.capacity(); i++) {
                if (b.get(i) != (byte) (seed * 31 + i * 7 + s)) {
                    throw new AssertionError("site " + s + " buffer differs at " + i);
                }
            }
            counts[s]++;
            if (!pool.contains(MemorySegment.ofBuffer(b).address())) {
                counts[3]++;
            }
        }
    }

    /** The agent's per-site trampoline classes loaded now (hidden classes named java.nio.JvmemSite...). */
    private static int trampolines() {
        int n = 0;
        for (Class<?> c : Retransformer.inst.getAllLoadedClasses()) {
            if (c.getName().startsWith("java.nio.JvmemSite")) {
                n++;
            }
        }
        return n;
    }
}
