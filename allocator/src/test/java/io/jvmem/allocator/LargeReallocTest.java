package io.jvmem.allocator;

import static io.jvmem.allocator.TestPools.ALL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * realloc of page runs, as jemalloc's large_ralloc_no_move: a page run shrinks in place (its tail pages go back to
 * the page allocator) and grows in place into the free pages right after it; only when that is impossible does it
 * move, and a move that fails leaves the block as it was.
 */
@org.junit.jupiter.api.Tag("unit")
class LargeReallocTest {
    private static final long MIB = 1L << 20;
    @TempDir
    Path dir;

    /** Writes a position-dependent pattern over [a, a + len): one long every 2 KiB and one ending at a + len. */
    private static void stamp(long a, long len, int seed) {
        for (long i = 0; i + 8 <= len; i += 2048) {
            ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, a + i, seed * 31L + i);
        }
        ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, a + len - 8, seed * 37L + len);
    }

    /** Whether [a, a + len) still holds a stamp made over at least len bytes. */
    private static boolean stamped(long a, long len, int seed) {
        for (long i = 0; i + 16 <= len; i += 2048) {
            if (ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, a + i) != seed * 31L + i) {
                return false;
            }
        }
        return true;
    }

    private static void assertConsistent(MemoryPool pool) {
        PoolCheck c = pool.check();
        assertTrue(c.consistent(), c.problems().toString());
    }

    private static PoolStats.SizeClassStats huge(PoolStats s) {
        return s.sizeClasses().stream().filter(c -> c.size() == -1).findFirst().orElse(null);
    }

    @Test
    @Timeout(60)
    void theLargestBlockOfAMinimalPoolShrinksInPlace() {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL)) {
            long largest = pool.stats().largestFree();
            long a = pool.malloc(largest);
            assertNotEquals(0, a);
            stamp(a, 7 * MIB, 1);
            long b = pool.realloc(a, 7 * MIB);
            assertEquals(a, b, "shrunk in place");
            assertEquals(7 * MIB, pool.usableSize(a));
            assertTrue(stamped(a, 7 * MIB, 1));
            PoolStats s = pool.stats();
            assertEquals(7 * MIB, s.allocated());
            assertEquals(largest - 7 * MIB, s.largestFree(), "the tail pages went back to the page allocator");
            assertEquals(1, huge(s).live());
            assertConsistent(pool);
            long c = pool.malloc(largest - 7 * MIB);
            assertNotEquals(0, c, "the freed tail serves a new block");
            assertConsistent(pool);
        }
    }

    @Test
    @Timeout(60)
    void aBlockGrowsInPlaceIntoTheFreePagesAfterIt() {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL)) {
            long a = pool.malloc(6 * MIB);
            stamp(a, 6 * MIB, 2);
            long b = pool.realloc(a, 9 * MIB);
            assertEquals(a, b, "grown in place: a pool this small has no room for a second block");
            assertEquals(9 * MIB, pool.usableSize(a));
            assertTrue(stamped(a, 6 * MIB, 2));
            stamp(a, 9 * MIB, 3); // the whole new size is usable
            PoolStats s = pool.stats();
            assertEquals(9 * MIB, s.allocated());
            assertEquals(1, huge(s).live());
            assertConsistent(pool);
            pool.free(a);
            assertEquals(0, pool.stats().allocated());
            assertConsistent(pool);
        }
    }

    @Test
    @Timeout(60)
    void aPageRunClassBlockGrowsAndShrinksInPlaceAcrossClasses() {
        try (VolatilePool pool = TestPools.create(32 * MIB)) {
            long a = pool.malloc(20_000);
            stamp(a, 20_000, 4);
            assertEquals(a, pool.realloc(a, 100_000));
            assertEquals(SizeClasses.usable(100_000), pool.usableSize(a));
            assertEquals(a, pool.realloc(a, 5 * MIB + 1), "a page-run class grows into a huge run");
            assertEquals(5 * MIB + 4096, pool.usableSize(a));
            assertEquals(a, pool.realloc(a, 300_000), "and a huge run shrinks into a page-run class");
            assertEquals(SizeClasses.usable(300_000), pool.usableSize(a));
            assertTrue(stamped(a, 20_000, 4));
            PoolStats s = pool.stats();
            assertEquals(SizeClasses.usable(300_000), s.allocated());
            int cls = SizeClasses.index(300_000);
            assertEquals(1, s.sizeClasses().stream().filter(c -> c.index() == cls).findFirst().orElseThrow().live());
            assertEquals(0, huge(s).live());
            assertConsistent(pool);
            pool.free(a);
            assertEquals(0, pool.stats().allocated());
            assertConsistent(pool);
        }
    }

    @Test
    @Timeout(60)
    void growthBlockedByANeighbourMovesTheBlock() {
        try (VolatilePool pool = TestPools.create(32 * MIB)) {
            long a = pool.malloc(6 * MIB);
            long neighbour = pool.malloc(5 * MIB);
            assertEquals(a + 6 * MIB, neighbour);
            stamp(a, 6 * MIB, 5);
            long b = pool.realloc(a, 7 * MIB);
            assertNotEquals(0, b);
            assertNotEquals(a, b);
            assertTrue(stamped(b, 6 * MIB, 5));
            assertThrows(InvalidFreeException.class, () -> pool.usableSize(a), "the old block was freed");
            assertEquals(12 * MIB, pool.stats().allocated());
            assertConsistent(pool);
        }
    }

    @Test
    @Timeout(60)
    void growthThatFitsNeitherInPlaceNorElsewhereLeavesTheBlockUntouched() {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL)) {
            long a = pool.malloc(6 * MIB);
            long neighbour = pool.malloc(5 * MIB);
            assertNotEquals(0, neighbour);
            stamp(a, 6 * MIB, 6);
            PoolStats before = pool.stats();
            assertEquals(0, pool.realloc(a, 9 * MIB));
            assertFalse(MemoryPool.lastError().isEmpty());
            assertEquals(6 * MIB, pool.usableSize(a));
            assertTrue(stamped(a, 6 * MIB, 6));
            PoolStats after = pool.stats();
            assertEquals(before.allocated(), after.allocated());
            assertEquals(before.largestFree(), after.largestFree());
            assertConsistent(pool);
        }
    }

    @Test
    @Timeout(60)
    void inPlaceResizesMoveTheBytesBetweenTagsExactly() {
        AllocationTag from = AllocationTag.define("realloc.from");
        AllocationTag to = AllocationTag.define("realloc.to");
        try (VolatilePool pool = TestPools.create(32 * MIB)) {
            long a = pool.malloc(6 * MIB, from);
            assertEquals(a, pool.realloc(a, 9 * MIB, to));
            PoolStats s = pool.stats();
            assertEquals(0, s.tag("realloc.from").inUse());
            assertEquals(9 * MIB, s.tag("realloc.to").inUse());
            assertEquals(9 * MIB, s.allocated());
            assertEquals(a, pool.realloc(a, 2 * MIB, from));
            s = pool.stats();
            assertEquals(2 * MIB, s.tag("realloc.from").inUse());
            assertEquals(0, s.tag("realloc.to").inUse());
            assertEquals(2 * MIB, s.allocated());
            pool.free(a);
            s = pool.stats();
            assertEquals(0, s.allocated());
            assertEquals(0, s.tag("realloc.from").inUse());
            assertEquals(s.mallocs(), s.frees());
            assertConsistent(pool);
        }
    }

    @Test
    @Timeout(60)
    void smallAndLargeBlocksStillMoveBetweenSlabsAndPageRuns() {
        try (VolatilePool pool = TestPools.create(32 * MIB)) {
            long a = pool.malloc(100);
            stamp(a, 100, 7);
            long b = pool.realloc(a, 100_000);
            assertNotEquals(a, b);
            assertEquals(SizeClasses.usable(100_000), pool.usableSize(b));
            assertTrue(stamped(b, 100, 7));
            long c = pool.realloc(b, 100);
            assertNotEquals(b, c, "a page run never turns into a slab region in place");
            assertEquals(SizeClasses.usable(100), pool.usableSize(c));
            assertTrue(stamped(c, 100, 7));
            assertEquals(SizeClasses.usable(100), pool.stats().allocated());
            assertConsistent(pool);
        }
    }

    @Test
    @Timeout(60)
    void aPageRunTakenFromTheThreadCacheGrowsInPlace() {
        try (VolatilePool pool = TestPools.create(32 * MIB)) {
            long a = pool.malloc(64 * 1024);
            pool.free(a); // into this thread's cache (64 KiB is below the cache limit)
            assertEquals(a, pool.malloc(64 * 1024), "served from the cache");
            stamp(a, 64 * 1024, 8);
            assertEquals(a, pool.realloc(a, 128 * 1024));
            assertTrue(stamped(a, 64 * 1024, 8));
            assertEquals(128 * 1024, pool.stats().allocated());
            assertConsistent(pool);
            pool.free(a);
            assertConsistent(pool);
        }
    }

    @Test
    @Timeout(60)
    void aCachedNeighbourIsNotGrownInto() {
        try (VolatilePool pool = TestPools.create(32 * MIB)) {
            long a = pool.malloc(64 * 1024);
            long b = pool.malloc(64 * 1024);
            assertEquals(a + 64 * 1024, b);
            pool.free(b); // cached: its pages are not free
            stamp(a, 64 * 1024, 9);
            long c = pool.realloc(a, 128 * 1024);
            assertNotEquals(a, c);
            assertNotEquals(b, c);
            assertTrue(stamped(c, 64 * 1024, 9));
            assertConsistent(pool);
            // both cached blocks (the neighbour and the moved-from block) are intact and served again
            assertEquals(java.util.Set.of(a, b), java.util.Set.of(pool.malloc(64 * 1024), pool.malloc(64 * 1024)));
            assertConsistent(pool);
        }
    }

    @Test
    @Timeout(60)
    void junkFillMarksTheGrownPartAndTheReturnedTail() {
        try (VolatilePool pool = TestPools.create(32 * MIB, PoolOptions.DEFAULT.withJunkFill(true))) {
            long a = pool.malloc(6 * MIB);
            TestPools.fill(a, 6 * MIB, (byte) 1);
            assertEquals(a, pool.realloc(a, 8 * MIB));
            assertTrue(TestPools.all(a, 6 * MIB, (byte) 1));
            assertTrue(TestPools.all(a + 6 * MIB, 2 * MIB, (byte) 0xa5), "the grown part is junk, as a new block");
            assertEquals(a, pool.realloc(a, 5 * MIB));
            assertTrue(TestPools.all(a, 5 * MIB, (byte) 1));
            assertTrue(TestPools.all(a + 5 * MIB, 3 * MIB, (byte) 0x5a), "the returned tail is junk, as a freed block");
            assertConsistent(pool);
        }
    }

    @Test
    @Timeout(60)
    void redzonedBlocksResizeInPlaceWithTheirRedzonesKept() {
        try (VolatilePool pool = TestPools.create(32 * MIB, PoolOptions.DEFAULT.withRedzones(true))) {
            long a = pool.malloc(6 * MIB);
            stamp(a, 6 * MIB, 10);
            assertEquals(a, pool.realloc(a, 9 * MIB));
            assertEquals(9 * MIB, pool.usableSize(a));
            assertTrue(stamped(a, 6 * MIB, 10));
            TestPools.fill(a + 6 * MIB, 3 * MIB, (byte) 2); // the grown part is the caller's
            assertEquals(a, pool.realloc(a, 5 * MIB));
            assertEquals(5 * MIB, pool.usableSize(a));
            assertTrue(stamped(a, 5 * MIB, 10));
            assertConsistent(pool);
            ALL.set(ValueLayout.JAVA_BYTE, a + 5 * MIB, (byte) 0); // one byte past the shrunk block
            HeapCorruptionException e = assertThrows(HeapCorruptionException.class, () -> pool.free(a));
            assertTrue(e.getMessage().contains("trailing redzone"), e.getMessage());
            assertConsistent(pool);
        }
    }

    @Test
    @Timeout(60)
    void reallocOfARedzonedBlockWithAnOverflowReportsItAndChangesNothing() {
        try (VolatilePool pool = TestPools.create(32 * MIB, PoolOptions.DEFAULT.withRedzones(true))) {
            long a = pool.malloc(6 * MIB);
            ALL.set(ValueLayout.JAVA_BYTE, a + 6 * MIB, (byte) 0);
            PoolStats before = pool.stats();
            HeapCorruptionException e = assertThrows(HeapCorruptionException.class, () -> pool.realloc(a, 9 * MIB));
            assertTrue(e.getMessage().contains("trailing redzone"), e.getMessage());
            assertEquals(6 * MIB, pool.usableSize(a));
            assertEquals(before.allocated(), pool.stats().allocated());
            assertConsistent(pool);
        }
    }

    @Test
    @Timeout(60)
    void inPlaceResizesSurviveACloseAndReopen() {
        Path file = dir.resolve("pool");
        long aOff;
        long cOff;
        try (CtoPool pool = CtoPool.create(file, "realloc", 32 * MIB)) {
            long a = pool.malloc(6 * MIB);
            stamp(a, 6 * MIB, 11);
            assertEquals(a, pool.realloc(a, 9 * MIB));
            stamp(a, 9 * MIB, 11);
            assertEquals(a, pool.realloc(a, 3 * MIB));
            long c = pool.malloc(5 * MIB);
            assertEquals(a + 3 * MIB, c, "the returned tail serves the next block");
            stamp(c, 5 * MIB, 12);
            long small = pool.realloc(pool.malloc(50_000), 30_000); // a page-run class shrunk in place
            pool.setRoot(small);
            aOff = pool.offsetOf(a);
            cOff = pool.offsetOf(c);
        }
        PoolCheck offline = CtoPool.check(file, "realloc");
        assertEquals(PoolCheck.Status.CONSISTENT, offline.status(), offline.problems().toString());
        try (CtoPool pool = CtoPool.open(file, "realloc")) {
            assertConsistent(pool);
            long a = pool.addressOf(aOff);
            long c = pool.addressOf(cOff);
            assertEquals(3 * MIB, pool.usableSize(a));
            assertEquals(5 * MIB, pool.usableSize(c));
            assertEquals(SizeClasses.usable(30_000), pool.usableSize(pool.root()));
            assertTrue(stamped(a, 3 * MIB, 11));
            assertTrue(stamped(c, 5 * MIB, 12));
            assertEquals(8 * MIB + SizeClasses.usable(30_000), pool.stats().allocated());
            assertEquals(a, pool.realloc(a, 2 * MIB), "still shrinks in place after the reopen");
            assertEquals(7 * MIB + SizeClasses.usable(30_000), pool.stats().allocated());
            pool.free(a);
            pool.free(c);
            assertConsistent(pool);
        }
    }
}
