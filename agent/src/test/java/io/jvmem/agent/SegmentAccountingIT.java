package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvmem.allocator.MemoryPool;
import io.jvmem.allocator.PoolCheck;
import io.jvmem.allocator.PoolStats;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sample.reachapi.Allocations;

/**
 * A routed arena segment's block is typed (malloc(9)'s free(addr, type)): the pool counts it under its site's tag
 * without recording the tag, and the segment's cleanup gives the tag back. The site's counters must stay exact, and a
 * segment whose block the program freed through another path must neither crash the arena's close nor go unnoticed.
 */
@org.junit.jupiter.api.Tag("integration")
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class SegmentAccountingIT {
    private static final Allocations ROUTED = new sample.reach.SegmentCalls();

    private static MemoryPool pool() {
        return Jvmem.pool("reach");
    }

    /** Bytes in use of the arena sites in SegmentCalls' methods of this name: their tags' counters. */
    private static long siteInUse(String method) {
        return pool().stats().tags().stream()
                .filter(x -> x.name().startsWith("site:arena:sample.reach.SegmentCalls." + method + "("))
                .mapToLong(PoolStats.TagStats::inUse).sum();
    }

    private static long releaseErrors() {
        return InAgent.releaseErrors();
    }

    @Test
    void aRoutedSegmentIsCountedUnderItsSiteUntilItsArenaCloses() {
        long before = siteInUse("allocate");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = ROUTED.allocate(arena, 64);
            assertTrue(pool().contains(s.address()));
            assertEquals(before + 64, siteInUse("allocate"));
        }
        assertEquals(before, siteInUse("allocate"));
    }

    @Test
    void segmentsOfEveryClassOfSizeAreCountedBackExactly() {
        long before = siteInUse("allocate");
        long allocatedBefore = pool().stats().allocated();
        for (long size : new long[] {0, 1, 64, 4096, 64 << 10, 1 << 20}) {
            try (Arena arena = Arena.ofShared()) {
                ROUTED.allocate(arena, size);
                assertTrue(siteInUse("allocate") > before, "size " + size);
            }
            assertEquals(before, siteInUse("allocate"), "size " + size);
        }
        assertEquals(allocatedBefore, pool().stats().allocated());
    }

    @Test
    void aSegmentAlignedBeyondTheQuantumIsCountedBackExactly() {
        long before = siteInUse("allocate");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = ROUTED.allocate(arena, 64, 4096);
            assertEquals(0, s.address() % 4096);
            assertTrue(pool().contains(s.address()));
        }
        assertEquals(before, siteInUse("allocate"));
    }

    @Test
    void aSegmentFreedThroughUnsafeBeforeItsArenaClosesIsReportedAndTheCloseSurvives() {
        long errors = releaseErrors();
        long allocatedBefore = pool().stats().allocated();
        Arena arena = Arena.ofConfined();
        MemorySegment s = ROUTED.allocate(arena, 64);
        // an unselected class frees the segment's address: pool-aware, so it returns to the pool, untyped
        sample.unrouted.Frees.free(TheUnsafe.U, s.address());
        assertEquals(allocatedBefore, pool().stats().allocated(), "the block went back to the pool");
        arena.close(); // its cleanup finds the block free: refused, counted, never a crash
        assertEquals(errors + 1, releaseErrors());
        assertEquals(allocatedBefore, pool().stats().allocated());
        assertEquals(PoolCheck.Status.CONSISTENT, pool().check().status());
    }

    @Test
    void anAutoArenasSegmentComesBackOnTheCleanerThreadAndIsCountedBack() throws InterruptedException {
        long before = siteInUse("allocate");
        MemorySegment s = ROUTED.allocate(Arena.ofAuto(), 64);
        assertNotNull(s);
        assertEquals(before + 64, siteInUse("allocate"));
        s = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (siteInUse("allocate") != before && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(10);
        }
        assertEquals(before, siteInUse("allocate"));
    }
}
