package sample.vthreads;

import io.jvmem.agent.Jvmem;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import sun.misc.Unsafe;

/**
 * Off-heap memory from many virtual threads at once, each parking while it holds memory so that the threads take
 * turns on the few carriers: direct buffers (freed through {@code invokeCleaner}), confined and shared arenas, and
 * {@code Unsafe.allocateMemory}/{@code freeMemory}. Prints how many blocks were in pool p (args[0] threads), how many
 * held another thread's bytes, and pool p's bytes in use at the end.
 */
public final class VirtualThreads {
    private VirtualThreads() {
    }

    public static void main(String[] args) throws Exception {
        int threads = Integer.parseInt(args[0]);
        Field f = Unsafe.class.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        Unsafe u = (Unsafe) f.get(null);
        AtomicLong inPool = new AtomicLong();
        AtomicLong blocks = new AtomicLong();
        AtomicLong damaged = new AtomicLong();
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long id = t;
                fs.add(ex.submit(() -> {
                    for (int i = 0; i < 20; i++) {
                        long mark = id * 1_000_003L + i;
                        ByteBuffer b = ByteBuffer.allocateDirect(4096);
                        long address = u.allocateMemory(512);
                        try (Arena confined = Arena.ofConfined(); Arena shared = Arena.ofShared()) {
                            MemorySegment c = confined.allocate(256);
                            MemorySegment s = shared.allocate(1024, 64);
                            MemorySegment[] all = {MemorySegment.ofBuffer(b), c, s, MemorySegment.ofAddress(address).reinterpret(512)};
                            for (MemorySegment m : all) {
                                m.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, mark);
                                m.set(ValueLayout.JAVA_LONG_UNALIGNED, m.byteSize() - 8, ~mark);
                            }
                            LockSupport.parkNanos(20_000); // another virtual thread takes this carrier
                            for (MemorySegment m : all) {
                                blocks.incrementAndGet();
                                if (Jvmem.isActive() && Jvmem.pool("p").contains(m.address())) {
                                    inPool.incrementAndGet();
                                }
                                if (m.get(ValueLayout.JAVA_LONG_UNALIGNED, 0) != mark
                                        || m.get(ValueLayout.JAVA_LONG_UNALIGNED, m.byteSize() - 8) != ~mark) {
                                    damaged.incrementAndGet();
                                }
                            }
                        } finally {
                            u.freeMemory(address);
                            u.invokeCleaner(b);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> fu : fs) {
                fu.get();
            }
        }
        System.out.println("blocks: " + blocks.get());
        System.out.println("in pool: " + inPool.get());
        System.out.println("damaged: " + damaged.get());
        System.out.println("in use at the end: " + Jvmem.pool("p").stats().allocated());
    }
}
