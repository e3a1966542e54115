package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

@org.junit.jupiter.api.Tag("unit")
class ThreadCacheBoundTest {
    @Test
    void pageRunsCachedByOneThreadStayBelowASixtyFourthOfTheHeap() {
        try (VolatilePool pool = VolatilePool.create("bound", Path.of(System.getProperty("java.io.tmpdir")), 64L << 20)) {
            long[] blocks = new long[40];
            long[] sizes = {16 << 10, 64 << 10, 256 << 10, 1 << 20};
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = pool.malloc(sizes[i % sizes.length]);
                assertNotEquals(0, blocks[i]);
            }
            for (long b : blocks) {
                pool.free(b);
            }
            long cached = pool.stats().cached(); // every block here is a page run
            assertTrue(cached > 0, "some are cached");
            assertTrue(cached <= pool.stats().usable() / 64, "page runs cached: " + cached);
        }
    }

    @Test
    void aPoolWhoseBlocksWereFreedByManyThreadsServesOneRunOfHalfOfIt() throws Exception {
        try (VolatilePool pool = VolatilePool.create("bound2", Path.of(System.getProperty("java.io.tmpdir")), 32L << 20)) {
            Thread[] ts = new Thread[4];
            for (int t = 0; t < ts.length; t++) {
                ts[t] = new Thread(() -> {
                    for (int i = 0; i < 2000; i++) {
                        long a = pool.malloc(16 << 10 << (i % 6));
                        if (a != 0) {
                            pool.free(a);
                        }
                    }
                });
                ts[t].start();
            }
            long big = 0;
            try {
                for (Thread t : ts) {
                    t.join();
                }
                big = pool.malloc(pool.stats().usable() / 2);
                assertNotEquals(0, big, MemoryPool.lastError());
            } finally {
                pool.free(big);
            }
        }
    }
}
