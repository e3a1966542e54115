package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Junk fill and redzones are options of the same code path, off by default. */
@org.junit.jupiter.api.Tag("unit")
class DebugFillTest {
    @Test
    void junkFillMarksNewAndFreedBlocks() {
        try (VolatilePool pool = TestPools.create(16L << 20, PoolOptions.DEFAULT.withJunkFill(true))) {
            long a = pool.malloc(200);
            assertTrue(TestPools.all(a, 200, (byte) 0xa5));
            pool.free(a);
            // the first 8 bytes of a cached free block hold the pool's free key (double-free detection)
            assertTrue(TestPools.all(a + 8, 192, (byte) 0x5a));
            long z = pool.calloc(1, 200);
            assertTrue(TestPools.all(z, 200, (byte) 0));
        }
    }

    @Test
    void withoutJunkFillFreedMemoryIsLeftAloneButForTheFreeKey() {
        try (VolatilePool pool = TestPools.create(16L << 20)) {
            long a = pool.malloc(200);
            TestPools.fill(a, 200, (byte) 3);
            pool.free(a);
            assertTrue(TestPools.all(a + 8, 192, (byte) 3));
        }
    }

    @Test
    @Timeout(60)
    void anOverflowIntoTheTrailingRedzoneIsReportedOnFree() {
        try (VolatilePool pool = TestPools.create(16L << 20, PoolOptions.DEFAULT.withRedzones(true))) {
            long a = pool.malloc(100);
            assertEquals(100, pool.usableSize(a));
            TestPools.fill(a, 100, (byte) 1);
            TestPools.ALL.set(ValueLayout.JAVA_BYTE, a + 100, (byte) 0);
            HeapCorruptionException e = assertThrows(HeapCorruptionException.class, () -> pool.free(a));
            assertEquals(PoolErrorReason.CORRUPT, e.reason());
            assertTrue(e.getMessage().contains("trailing redzone"), e.getMessage()); // where: the message tells
            assertTrue(pool.check().consistent(), "the block was still freed");
        }
    }

    @Test
    void anUnderflowIntoTheLeadingRedzoneIsReportedOnFree() {
        try (VolatilePool pool = TestPools.create(16L << 20, PoolOptions.DEFAULT.withRedzones(true))) {
            long a = pool.alignedAlloc(256, 100);
            assertEquals(0, a % 256);
            TestPools.ALL.set(ValueLayout.JAVA_BYTE, a - 100, (byte) 0);
            assertThrows(HeapCorruptionException.class, () -> pool.free(a));
        }
    }

    @Test
    void redzonedBlocksFollowTheMallocRules() {
        try (VolatilePool pool = TestPools.create(16L << 20, PoolOptions.DEFAULT.withRedzones(true).withJunkFill(true))) {
            long a = pool.calloc(10, 10);
            assertTrue(TestPools.all(a, 100, (byte) 0));
            long b = pool.realloc(a, 5000);
            assertTrue(TestPools.all(b, 100, (byte) 0));
            pool.free(b);
            assertThrows(InvalidFreeException.class, () -> pool.free(b));
            assertTrue(pool.check().consistent());
        }
    }
}
