package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** check() finds injected corruption of each structure and never crashes. */
@org.junit.jupiter.api.Tag("unit")
class CheckTest {
    private final VolatilePool pool = TestPools.create(32L << 20);
    private final Allocator heap = pool.allocator();

    @AfterEach
    void delete() {
        pool.delete();
    }

    private void populate() {
        Random r = new Random(7);
        for (int i = 0; i < 500; i++) {
            long a = pool.malloc(1 + r.nextInt(i % 7 == 0 ? 100_000 : 3000));
            if (r.nextBoolean()) {
                pool.free(a);
            }
        }
        pool.malloc(5L << 20);
    }

    private void assertInconsistent(String expectedFragment) {
        PoolCheck c = pool.check();
        assertEquals(PoolCheck.Status.INCONSISTENT, c.status());
        assertEquals(0, c.code());
        assertTrue(c.problems().stream().anyMatch(p -> p.contains(expectedFragment)), c.problems().toString());
    }

    @Test
    void aFreshPoolIsConsistent() {
        assertEquals(1, pool.check().code());
    }

    @Test
    void aBusyPoolIsConsistent() {
        populate();
        PoolCheck c = pool.check();
        assertTrue(c.consistent(), c.problems().toString());
    }

    @Test
    void aCorruptedHeaderIsReported() {
        populate();
        heap.pool.set(ValueLayout.JAVA_BYTE, PoolLayout.OFF_HEAP_PAGES, (byte) 0x7f);
        assertInconsistent("header");
    }

    @Test
    void aStrayLiveBitInAFreeRunIsReported() {
        populate();
        long lastPage = heap.pageMap.pages - 1;
        heap.live.set(lastPage << SizeClasses.LG_PAGE);
        assertInconsistent("stray live bit");
    }

    @Test
    void aDamagedRunTailIsReported() {
        populate();
        long big = pool.malloc(200_000);
        long page = (big - heap.heapAddr) >>> SizeClasses.LG_PAGE;
        long pages = SizeClasses.usable(200_000) >>> SizeClasses.LG_PAGE;
        heap.pageMap.set(page + pages - 1, 0x1234_5678_9abcL);
        assertInconsistent("tail");
    }

    @Test
    void aDamagedSlabPageIsReported() {
        long a = pool.malloc(8192); // two-page slabs
        long page = (a - heap.heapAddr) >>> SizeClasses.LG_PAGE;
        heap.pageMap.set(page + 1, PageMap.slab(999, 3, 1));
        assertInconsistent("slab");
    }

    @Test
    void aHeadEntryPointingBeyondTheHeapIsReported() {
        populate();
        heap.pageMap.set(0, PageMap.large(1L << 31, 40, 0, PageMap.HEAD));
        assertInconsistent("does not start a run");
    }

    @Test
    void aLostLiveBitIsReported() {
        long a = pool.malloc(64);
        heap.live.clear(a - heap.heapAddr);
        assertInconsistent("lost");
    }

    @Test
    void randomGarbageInThePageMapNeverCrashesTheCheck() {
        populate();
        Random r = new Random(42);
        for (int round = 0; round < 200; round++) {
            long page = r.nextInt((int) Math.min(heap.pageMap.pages, 400));
            long saved = heap.pageMap.get(page);
            heap.pageMap.set(page, r.nextLong());
            PoolCheck c = pool.check();
            assertFalse(c.status() == PoolCheck.Status.NOT_CHECKED);
            heap.pageMap.set(page, saved);
        }
        assertTrue(pool.check().consistent());
    }

    @Test
    void freeOfABlockWhosePageEntryWasDestroyedThrowsInsteadOfCrashing() {
        long a = pool.malloc(200_000);
        long page = (a - heap.heapAddr) >>> SizeClasses.LG_PAGE;
        heap.pageMap.set(page, PageMap.free(3, PageMap.HEAD, 0));
        org.junit.jupiter.api.Assertions.assertThrows(HeapCorruptionException.class, () -> pool.free(a));
    }
}
