package io.jvmem.bench.routed;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Whether a full pool stalls fallback requests (README: "it never stalls the program"): the route's pool is filled
 * with live 64 KiB and 4 KiB segments, a little room is freed, {@code churners} threads then allocate and drop 64 B
 * blocks without pause, and the main thread times {@code requests} requests of {@code size} bytes, which the pool
 * cannot serve: each goes to the JDK after the agent's reclaim, whose waits are what is measured. After breaker13's
 * program (the eleventh session). Run with the agent and a route on io.jvmem.bench.routed with
 * {@code on-exhausted=fallback}, and without it for the JDK's time:
 * {@code java -javaagent:jvmem-agent.jar=<config> -cp benchmarks.jar io.jvmem.bench.routed.FallbackStall <pool> 2 400
 * 1048576 [direct]} ({@code direct}: allocateDirect for both, else {@code Arena.ofAuto()}). Prints one line.
 */
public final class FallbackStall {
    private static final List<Object> LIVE = new ArrayList<>();
    private static volatile boolean stop;

    private FallbackStall() {
    }

    private static MemorySegment allocate(boolean direct, int size) {
        return direct ? MemorySegment.ofBuffer(ByteBuffer.allocateDirect(size)) : Arena.ofAuto().allocate(size);
    }

    /** Whether {@code address} is in the agent's pool {@code pool}; false without the agent. */
    private static boolean inPool(String pool, long address) {
        try {
            Class<?> jvmem = Class.forName("io.jvmem.agent.Jvmem", true, ClassLoader.getSystemClassLoader());
            return (boolean) jvmem.getMethod("isActive").invoke(null)
                    && ((io.jvmem.allocator.MemoryPool) jvmem.getMethod("pool", String.class).invoke(null, pool)).contains(address);
        } catch (ReflectiveOperationException noAgent) {
            return false;
        }
    }

    public static void main(String[] args) throws Exception {
        String pool = args[0];
        int churners = Integer.parseInt(args[1]);
        int requests = Integer.parseInt(args[2]);
        int size = Integer.parseInt(args[3]);
        boolean direct = args.length > 4 && args[4].equals("direct");
        for (int block : new int[] {65536, 4096}) { // live data until the pool gives none of this size
            for (MemorySegment s; inPool(pool, (s = Arena.ofAuto().allocate(block)).address()) || LIVE.isEmpty(); ) {
                LIVE.add(s);
                if (LIVE.size() > 1_000_000) {
                    break; // no agent: nothing fills
                }
            }
        }
        for (int i = 0; i < 64 && LIVE.size() > 2; i++) {
            LIVE.remove(LIVE.size() - 2); // 256 KiB of room for the churners
        }
        System.gc();
        Thread.sleep(300);
        AtomicLong churned = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < churners; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                while (!stop) {
                    allocate(direct, 64);
                    churned.incrementAndGet();
                }
            }));
        }
        Thread.sleep(200);
        long max = 0;
        int over200 = 0;
        int fromPool = 0;
        long start = System.nanoTime();
        for (int i = 0; i < requests; i++) {
            long t0 = System.nanoTime();
            MemorySegment m = allocate(direct, size);
            long d = System.nanoTime() - t0;
            fromPool += inPool(pool, m.address()) ? 1 : 0;
            max = Math.max(max, d);
            over200 += d > 200_000_000L ? 1 : 0;
        }
        long wall = (System.nanoTime() - start) / 1_000_000;
        stop = true;
        for (Thread t : threads) {
            t.join();
        }
        System.out.printf("%d requests of %d bytes: %d ms in all, the longest %.1f ms, %d over 200 ms, %d from the pool;"
                + " %d small blocks churned%n", requests, size, wall, max / 1e6, over200, fromPool, churned.get());
    }
}
