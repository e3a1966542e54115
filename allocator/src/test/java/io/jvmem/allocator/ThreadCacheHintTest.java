package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link TypedAllocator#threadCache()}: a hint that lets {@link TypedAllocator#malloc(Object, long)} and
 * {@link TypedAllocator#free(Object, long)} skip finding the calling thread's cache. A hint that is not the calling
 * thread's cache of this pool is ignored, so a wrong one never puts a block in another thread's or pool's cache.
 */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
@org.junit.jupiter.api.Tag("unit")
class ThreadCacheHintTest {
    private static final long SMALL = 64;
    private static final int CLS = SizeClasses.index(SMALL);

    @Test
    void aHintOnItsOwnThreadServesAndTakesBackBlocksWithTheSameCounts() {
        AllocationTag t = AllocationTag.define("hint.own");
        try (VolatilePool pool = TestPools.create(32L << 20)) {
            TypedAllocator typed = pool.typed(t);
            Object hint = typed.threadCache();
            long a = typed.malloc(hint, SMALL);
            long b = typed.malloc(null, SMALL);
            assertEquals(2 * SMALL, pool.stats().tag(t.name()).inUse());
            int cached = ((ThreadCache) hint).height(CLS);
            typed.free(hint, a);
            typed.free(hint, b);
            assertEquals(cached + 2, ((ThreadCache) hint).height(CLS), "both went to this thread's cache");
            assertEquals(0, pool.stats().tag(t.name()).inUse());
            assertEquals(2, pool.stats().tag(t.name()).requests());
            assertEquals(0, pool.stats().allocated());
        }
    }

    @Test
    void aHintUsedOnAnotherThreadIsIgnoredAndThatThreadsOwnCacheIsUsed() throws Exception {
        AllocationTag t = AllocationTag.define("hint.other-thread");
        try (VolatilePool pool = TestPools.create(32L << 20)) {
            TypedAllocator typed = pool.typed(t);
            ThreadCache mine = (ThreadCache) typed.threadCache();
            int before = mine.height(CLS);
            int[] theirs = CompletableFuture.supplyAsync(() -> {
                long a = typed.malloc(mine, SMALL);
                int n = ((ThreadCache) typed.threadCache()).height(CLS);
                typed.free(mine, a);
                return new int[] {n, ((ThreadCache) typed.threadCache()).height(CLS)};
            }).get();
            assertEquals(theirs[0] + 1, theirs[1], "the block went to the freeing thread's own cache");
            assertEquals(before, mine.height(CLS), "the hint's cache was not touched");
            assertEquals(0, pool.stats().allocated());
            assertTrue(pool.check().consistent(), pool.check().toString());
        }
    }

    @Test
    void aHintOfAnotherPoolIsIgnored() {
        AllocationTag t = AllocationTag.define("hint.other-pool");
        try (VolatilePool one = TestPools.create(32L << 20); VolatilePool two = TestPools.create(32L << 20)) {
            ThreadCache oneCache = (ThreadCache) one.typed(t).threadCache();
            int before = oneCache.height(CLS);
            TypedAllocator typed = two.typed(t);
            long a = typed.malloc(oneCache, SMALL);
            assertTrue(two.contains(a));
            typed.free(oneCache, a);
            assertEquals(before, oneCache.height(CLS), "the other pool's cache was not touched");
            assertEquals(0, two.stats().allocated());
            assertEquals(0, one.stats().allocated());
            assertTrue(one.check().consistent(), one.check().toString());
            assertTrue(two.check().consistent(), two.check().toString());
        }
    }

    @Test
    void aNullOrForeignHintIsIgnored() {
        AllocationTag t = AllocationTag.define("hint.foreign");
        try (VolatilePool pool = TestPools.create(32L << 20)) {
            TypedAllocator typed = pool.typed(t);
            for (Object hint : new Object[] {null, "not a cache", new Object()}) {
                long a = typed.malloc(hint, SMALL);
                assertTrue(pool.contains(a));
                typed.free(hint, a);
            }
            assertEquals(0, pool.stats().allocated());
        }
    }

    @Test
    void aDoubleFreeWithAHintIsStillDetected() {
        AllocationTag t = AllocationTag.define("hint.double");
        try (VolatilePool pool = TestPools.create(32L << 20)) {
            TypedAllocator typed = pool.typed(t);
            Object hint = typed.threadCache();
            long a = typed.malloc(hint, SMALL);
            typed.free(hint, a);
            assertThrows(InvalidFreeException.class, () -> typed.free(hint, a));
            assertEquals(0, pool.stats().tag(t.name()).inUse());
        }
    }

    @Test
    void aVirtualThreadsHintIsThePoolsSharedCacheAndWorks() throws Exception {
        AllocationTag t = AllocationTag.define("hint.virtual");
        try (VolatilePool pool = TestPools.create(32L << 20)) {
            TypedAllocator typed = pool.typed(t);
            Thread v = Thread.ofVirtual().start(() -> {
                Object hint = typed.threadCache();
                long a = typed.malloc(hint, SMALL);
                typed.free(hint, a);
            });
            v.join();
            assertEquals(0, pool.stats().allocated());
            assertEquals(1, pool.stats().tag(t.name()).requests());
        }
    }
}
