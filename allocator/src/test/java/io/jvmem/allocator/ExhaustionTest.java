package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A full pool fails cleanly, and recovers all of its space once everything is freed. */
@org.junit.jupiter.api.Tag("unit")
class ExhaustionTest {
    private static List<Long> fill(VolatilePool pool, Random r) {
        List<Long> blocks = new ArrayList<>();
        int failures = 0;
        while (failures < 200) {
            long size = switch (r.nextInt(4)) {
                case 0 -> 1 + r.nextInt(256);
                case 1 -> 256 + r.nextInt(8192);
                case 2 -> 16384 + r.nextInt(200_000);
                default -> 1 + r.nextInt(2 << 20);
            };
            long a = pool.malloc(size);
            if (a == 0) {
                failures++;
                assertEquals(PoolErrorReason.OUT_OF_MEMORY, MemoryPool.lastErrorReason(), MemoryPool.lastError());
            } else {
                blocks.add(a);
            }
        }
        return blocks;
    }

    @Test
    @Timeout(120)
    void aFullPoolServesHalfItsUsableSizeAfterEverythingIsFreed() {
        try (VolatilePool pool = TestPools.create(64L << 20)) {
            List<Long> blocks = fill(pool, new Random(3));
            assertTrue(pool.stats().allocated() > pool.stats().usable() * 3 / 4, "the pool was really full");
            blocks.forEach(pool::free);
            long half = pool.stats().usable() / 2;
            long a = pool.malloc(half);
            assertNotEquals(0, a, MemoryPool.lastError());
            pool.free(a);
            assertTrue(pool.check().consistent(), pool.check().problems().toString());
        }
    }

    @Test
    @Timeout(120)
    void memoryCachedByThreadsThatEndedIsRecovered() throws InterruptedException {
        try (VolatilePool pool = TestPools.create(64L << 20)) {
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int seed = t;
                Thread th = new Thread(() -> fill(pool, new Random(seed)).forEach(pool::free));
                threads.add(th);
                th.start();
            }
            for (Thread th : threads) {
                th.join();
            }
            long a = pool.malloc(pool.stats().usable() * 9 / 10);
            assertNotEquals(0, a, MemoryPool.lastError());
            pool.free(a);
        }
    }

    @Test
    void allocationFailureIsAResultNotAnException() {
        try (VolatilePool pool = TestPools.create(16L << 20)) {
            long a = pool.malloc(12L << 20);
            assertNotEquals(0, a);
            assertEquals(0, pool.malloc(12L << 20));
            assertEquals(0, pool.calloc(1, 12L << 20));
            assertEquals(0, pool.alignedAlloc(1 << 20, 12L << 20));
            pool.free(a);
            assertNotEquals(0, pool.malloc(12L << 20));
        }
    }
}
