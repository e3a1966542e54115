package io.jvmem.allocator;

import static io.jvmem.allocator.TestPools.ALL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** malloc(9)'s mallocarray, zfree and reallocf, and the flags value. */
@org.junit.jupiter.api.Tag("unit")
class Malloc9Test {
    @Test
    @Timeout(60)
    void mallocArrayReturnsZeroWithReasonOverflowWhenNTimesSizeOverflows() {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL)) {
            assertEquals(0, pool.mallocArray(1L << 32, 1L << 32));
            assertEquals(PoolErrorReason.OVERFLOW, MemoryPool.lastErrorReason());
            assertEquals(0, pool.stats().allocated());
        }
    }

    @Test
    @Timeout(60)
    void mallocArrayGivesABlockForNTimesSize() {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL)) {
            long a = pool.mallocArray(100, 24);
            assertNotEquals(0, a);
            assertTrue(pool.usableSize(a) >= 2400);
        }
    }

    @Test
    @Timeout(60)
    void zfreeLeavesZerosSeenThroughASecondAllocationOfTheSameBlock() {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL, PoolOptions.DEFAULT.withJunkFill(false))) {
            long a = pool.malloc(4096);
            long usable = pool.usableSize(a);
            TestPools.fill(a, usable, (byte) 0x7f);
            pool.zfree(a);
            long b = pool.malloc(4096); // the thread cache hands the same block back
            assertEquals(a, b);
            assertTrue(TestPools.all(b, usable, (byte) 0), "zfree left non-zero bytes");
        }
    }

    @Test
    @Timeout(60)
    void zfreeOfABlockThatIsNotLiveThrowsBeforeWriting() {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL)) {
            long a = pool.malloc(64);
            long b = pool.malloc(64);
            ALL.set(ValueLayout.JAVA_LONG, b, 42L);
            pool.free(a);
            assertThrows(InvalidFreeException.class, () -> pool.zfree(a));
            assertThrows(InvalidFreeException.class, () -> pool.zfree(b + 8));
            assertEquals(42L, ALL.get(ValueLayout.JAVA_LONG, b));
        }
    }

    @Test
    @Timeout(60)
    void reallocfFreesTheBlockWhenTheNewOneCannotBeHad() {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL, PoolOptions.DEFAULT.withThreadCacheMax(0))) {
            long a = pool.malloc(1 << 20);
            long inUse = pool.stats().allocated();
            assertTrue(inUse >= 1 << 20);
            long r = pool.reallocf(a, pool.stats().largestFree() + (4L << 20));
            assertEquals(0, r);
            assertTrue(pool.stats().allocated() <= inUse - (1 << 20), "in-use bytes did not drop");
            assertThrows(InvalidFreeException.class, () -> pool.free(a));
        }
    }

    @Test
    @Timeout(60)
    void reallocfThatSucceedsKeepsTheContents() {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL)) {
            long a = pool.malloc(64);
            ALL.set(ValueLayout.JAVA_LONG, a, 0x1234L);
            long r = pool.reallocf(a, 100_000);
            assertNotEquals(0, r);
            assertEquals(0x1234L, ALL.get(ValueLayout.JAVA_LONG, r));
        }
    }

    @Test
    @Timeout(60)
    void mZeroGivesZeroedMemoryEvenWithJunkFill() {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL, PoolOptions.DEFAULT.withJunkFill(true))) {
            long a = pool.malloc(5000, MallocFlags.M_ZERO);
            assertNotEquals(0, a);
            assertTrue(TestPools.all(a, 5000, (byte) 0));
        }
    }

    @Test
    @Timeout(60)
    void mNodumpOnAPoolWithoutNoDumpIsRefusedWithBadArgument() {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL)) {
            assertEquals(0, pool.malloc(64, MallocFlags.M_NODUMP));
            assertEquals(PoolErrorReason.BAD_ARGUMENT, MemoryPool.lastErrorReason());
        }
    }

    @Test
    @Timeout(60)
    void mNowaitWithMWaitokIsRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> MallocFlags.M_NOWAIT.and(MallocFlags.waitOk(Duration.ofSeconds(1))));
    }

    @Test
    @Timeout(60)
    void flagsCombineIntoOneValue() {
        MallocFlags f = MallocFlags.M_ZERO.and(MallocFlags.M_NODUMP).and(MallocFlags.waitOk(Duration.ofMillis(5)));
        assertTrue(f.zero() && f.noDump());
        assertEquals(Duration.ofMillis(5), f.waitTimeout().orElseThrow());
        assertEquals(f, MallocFlags.waitOk(Duration.ofMillis(5)).and(MallocFlags.M_NODUMP).and(MallocFlags.M_ZERO));
    }
}
