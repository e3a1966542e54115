package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * malloc(9)'s typed free: {@link MemoryPool#mallocTyped} counts a block under a tag the caller keeps, and
 * {@link MemoryPool#free(long, AllocationTag)} gives it back.
 */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
@org.junit.jupiter.api.Tag("unit")
class TypedFreeTest {
    private static final long SMALL = 64;
    private static final long RUN = 64 << 10; // a page-run class, cached by the thread
    private static final long HUGE = 1 << 20; // beyond the classes

    @Test
    void aTypedBlockIsCountedUnderItsTagUntilItsTypedFree() {
        AllocationTag t = AllocationTag.define("typed.counted");
        try (VolatilePool pool = TestPools.create(32L << 20)) {
            long a = pool.mallocTyped(SMALL, t);
            assertEquals(SMALL, pool.stats().tag(t.name()).inUse());
            assertEquals(1, pool.stats().tag(t.name()).requests());
            pool.free(a, t);
            PoolStats s = pool.stats();
            assertEquals(0, s.tag(t.name()).inUse());
            assertEquals(SMALL, s.tag(t.name()).peakInUse());
            assertEquals(0, s.allocated());
        }
    }

    @Test
    void typedPageRunsAndHugeBlocksAreCountedExactly() {
        AllocationTag t = AllocationTag.define("typed.large");
        try (VolatilePool pool = TestPools.create(32L << 20)) {
            for (int round = 0; round < 3; round++) { // the run comes back from the thread cache in later rounds
                long run = pool.mallocTyped(RUN, t);
                long huge = pool.mallocTyped(HUGE, t);
                assertEquals(RUN + HUGE, pool.stats().tag(t.name()).inUse());
                pool.free(run, t);
                pool.free(huge, t);
                assertEquals(0, pool.stats().tag(t.name()).inUse());
                assertEquals(0, pool.stats().allocated());
            }
            assertEquals(6, pool.stats().tag(t.name()).requests());
        }
    }

    @Test
    void anUntypedFreeOfATypedBlockCountsItBackAsUntagged() {
        AllocationTag t = AllocationTag.define("typed.untyped-free");
        try (VolatilePool pool = TestPools.create(32L << 20)) {
            long a = pool.mallocTyped(SMALL, t);
            pool.free(a); // the pool cannot know the tag: documented
            PoolStats s = pool.stats();
            assertEquals(0, s.allocated(), "the pool's total stays exact");
            assertEquals(SMALL, s.tag(t.name()).inUse(), "the tag keeps the bytes it was never given back");
            assertTrue(pool.check().consistent(), pool.check().toString());
        }
    }

    @Test
    void aTypedFreeUnderAnotherTagMovesTheBytesBetweenTheTags() {
        AllocationTag t = AllocationTag.define("typed.right");
        AllocationTag other = AllocationTag.define("typed.other");
        try (VolatilePool pool = TestPools.create(32L << 20)) {
            long keep = pool.mallocTyped(SMALL, other);
            long a = pool.mallocTyped(SMALL, t);
            pool.free(a, other);
            PoolStats s = pool.stats();
            assertEquals(SMALL, s.allocated());
            assertEquals(SMALL, s.tag(t.name()).inUse());
            assertEquals(0, s.tag(other.name()).inUse());
            pool.free(keep, other);
            assertTrue(pool.check().consistent(), pool.check().toString());
        }
    }

    @Test
    void aTypedFreeUnderAnotherTagIsRefusedWithTheDebuggingAids() {
        AllocationTag t = AllocationTag.define("typed.debug.right");
        AllocationTag other = AllocationTag.define("typed.debug.other");
        try (VolatilePool pool = TestPools.create(32L << 20, PoolOptions.DEFAULT.withRedzones(true))) {
            long a = pool.mallocTyped(SMALL, t);
            InvalidFreeException e = assertThrows(InvalidFreeException.class, () -> pool.free(a, other));
            assertTrue(e.getMessage().contains("typed.debug.other"), e.getMessage());
            assertEquals(SMALL, pool.usableSize(a), "the block is still allocated");
            pool.free(a, t);
            assertEquals(0, pool.stats().tag(t.name()).inUse());
        }
    }

    @Test
    void anUntypedFreeOfATypedBlockCountsItRightWithTheDebuggingAids() {
        AllocationTag t = AllocationTag.define("typed.debug.untyped");
        try (VolatilePool pool = TestPools.create(32L << 20, PoolOptions.DEFAULT.withJunkFill(true))) {
            long a = pool.mallocTyped(SMALL, t);
            pool.free(a);
            assertEquals(0, pool.stats().tag(t.name()).inUse());
        }
    }

    @Test
    void aTypedDoubleFreeIsDetected() {
        AllocationTag t = AllocationTag.define("typed.double");
        try (VolatilePool pool = TestPools.create(32L << 20)) {
            long a = pool.mallocTyped(SMALL, t);
            pool.free(a, t);
            assertThrows(InvalidFreeException.class, () -> pool.free(a, t));
            assertEquals(0, pool.stats().tag(t.name()).inUse(), "the refused free counted nothing");
        }
    }

    @Test
    void aTypedDoubleFreeOfAPageRunIsDetected() {
        AllocationTag t = AllocationTag.define("typed.double.run");
        try (VolatilePool pool = TestPools.create(32L << 20)) {
            long a = pool.mallocTyped(RUN, t);
            pool.free(a, t);
            assertThrows(InvalidFreeException.class, () -> pool.free(a, t));
        }
    }

    @Test
    void aTypedFreeOfAnotherPoolsBlockIsRefused() {
        AllocationTag t = AllocationTag.define("typed.wrong-pool");
        try (VolatilePool one = TestPools.create(16L << 20); VolatilePool two = TestPools.create(16L << 20)) {
            long a = one.mallocTyped(SMALL, t);
            assertThrows(InvalidFreeException.class, () -> two.free(a, t));
            assertEquals(SMALL, one.stats().tag(t.name()).inUse());
            one.free(a, t);
        }
    }

    @Test
    void aRegionUsedByTypedAndRecordedBlocksInTurnKeepsEveryTagExact() {
        AllocationTag typed = AllocationTag.define("typed.turns.typed");
        AllocationTag recorded = AllocationTag.define("typed.turns.recorded");
        try (VolatilePool pool = TestPools.create(32L << 20)) {
            long a = pool.malloc(SMALL, recorded);
            pool.free(a);
            long b = pool.mallocTyped(SMALL, typed);
            assertEquals(a, b, "the same region, from the thread cache");
            pool.free(b, typed);
            long c = pool.malloc(SMALL); // untagged: must not inherit either tag
            assertEquals(a, c);
            pool.free(c);
            long d = pool.malloc(SMALL, recorded);
            pool.free(d);
            PoolStats s = pool.stats();
            assertEquals(0, s.tag(typed.name()).inUse());
            assertEquals(0, s.tag(recorded.name()).inUse());
            assertEquals(2, s.tag(recorded.name()).requests());
            assertEquals(0, s.allocated());
        }
    }

    @Test
    void aTypedFreeWakesAWaitingAllocation() throws Exception {
        AllocationTag t = AllocationTag.define("typed.wakes");
        try (VolatilePool pool = TestPools.create(16L << 20, PoolOptions.DEFAULT.withThreadCacheMax(0))) {
            java.util.List<Long> held = new java.util.ArrayList<>();
            long a;
            while ((a = pool.mallocTyped(HUGE, t)) != 0) {
                held.add(a);
            }
            Thread freer = new Thread(() -> {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
                pool.free(held.get(0), t);
            });
            freer.start();
            long got = pool.malloc(HUGE, MallocFlags.waitOk(java.time.Duration.ofSeconds(20)));
            freer.join();
            assertTrue(got != 0, MemoryPool.lastError());
        }
    }

    @Test
    void aTypedAllocatorCountsAsMallocTypedAndTypedFreeDo() {
        AllocationTag t = AllocationTag.define("typed.allocator");
        try (VolatilePool pool = TestPools.create(32L << 20)) {
            TypedAllocator typed = pool.typed(t);
            long a = typed.malloc(SMALL);
            long b = pool.mallocTyped(SMALL, t);
            assertEquals(2 * SMALL, pool.stats().tag(t.name()).inUse());
            typed.free(b); // either way round: the same blocks and counters
            pool.free(a, t);
            assertEquals(0, pool.stats().tag(t.name()).inUse());
            assertEquals(0, pool.stats().allocated());
            typed.free(0); // a no-op, as free(0)
        }
    }

    @Test
    void aTypedAllocatorsDoubleFreeIsDetected() {
        AllocationTag t = AllocationTag.define("typed.allocator.double");
        try (VolatilePool pool = TestPools.create(32L << 20)) {
            TypedAllocator typed = pool.typed(t);
            long a = typed.malloc(SMALL);
            typed.free(a);
            assertThrows(InvalidFreeException.class, () -> typed.free(a));
            assertEquals(0, pool.stats().tag(t.name()).inUse());
        }
    }

    @Test
    void aTypedAllocatorOfADeletedPoolRefusesWork() {
        AllocationTag t = AllocationTag.define("typed.allocator.closed");
        VolatilePool pool = TestPools.create(16L << 20);
        TypedAllocator typed = pool.typed(t);
        pool.close();
        assertThrows(PoolClosedException.class, () -> typed.malloc(SMALL));
    }

    @Test
    @Timeout(30)
    void aTypedFreeOfZeroIsANoOpWhateverTheTagAndANullTagIsNamed() {
        try (VolatilePool pool = TestPools.create(32L << 20)) {
            pool.free(0, null);
            pool.free(0, AllocationTag.define("typed.zero"));
            NullPointerException e = assertThrows(NullPointerException.class, () -> pool.mallocTyped(SMALL, null));
            assertEquals("tag", e.getMessage());
            assertEquals("tag", assertThrows(NullPointerException.class, () -> pool.typed(null)).getMessage());
            assertTrue(pool.check().consistent());
        }
    }

    @Test
    void aBlockWhoseCallerOverwritesItsFirstWordIsFreedAndServedAgain() {
        AllocationTag t = AllocationTag.define("typed.overwrites");
        try (VolatilePool pool = TestPools.create(32L << 20)) {
            TypedAllocator typed = pool.typed(t);
            for (int round = 0; round < 3; round++) { // rounds after the first take the block back from the cache
                long a = typed.malloc(null, SMALL, true);
                TestPools.ALL.asSlice(a, SMALL).fill((byte) 0);
                typed.free(a);
            }
            assertEquals(0, pool.stats().allocated());
            assertEquals(3, pool.stats().tag(t.name()).requests());
            assertTrue(pool.check().consistent(), pool.check().toString());
        }
    }

    @Test
    void aBlockWhoseCallerLeftItsFirstWordUntouchedIsRefusedAsADoubleFreeKeptAndReportedByTheCheck() {
        AllocationTag t = AllocationTag.define("typed.untouched");
        try (VolatilePool pool = TestPools.create(32L << 20)) {
            TypedAllocator typed = pool.typed(t);
            typed.free(typed.malloc(SMALL)); // the block now rests in this thread's cache, marked free
            long a = typed.malloc(null, SMALL, true);
            assertThrows(InvalidFreeException.class, () -> typed.free(a));
            assertEquals(SMALL, pool.stats().allocated(), "kept: counted in use");
            PoolCheck check = pool.check();
            assertEquals(1, check.problems().size(), check.toString());
            assertTrue(check.problems().get(0).endsWith("carries the free key but is in no thread cache"), check.toString());
        }
    }
}
