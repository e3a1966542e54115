package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvmem.allocator.MemoryPool;
import io.jvmem.allocator.VolatilePool;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The back-off of fallback requests' collections ({@link Reclaimer#collectAndRetry}), on a real pool, without a JVM GC. */
@org.junit.jupiter.api.Tag("unit")
class ReclaimerTest {
    @TempDir
    Path dir;

    /** An Unsafe call site of a fallback route on {@code pool}. */
    private static Site site(MemoryPool pool) {
        Route route = new Route(ConfigParser.parse("t.properties", List.of("pool.p.size=16m", "route.r.include=a",
                "route.r.pool=p")).routes().get(0), pool);
        return new Site(1, "a.A.m(A.java:1)", AgentConfig.Call.ALLOCATE_MEMORY.configName, route);
    }

    /** The reclaimer of {@code pool} whose collections run {@code gc}, with no JDK reference processing to wait for. */
    private static Reclaimer reclaimer(MemoryPool pool, Runnable gc) {
        return new Reclaimer(new MemoryPool[] {pool}, ReferenceProcessing.define(b -> {
            throw new IllegalStateException("no JDK wait in a unit test");
        }, new byte[0]), new SharedCollection(gc));
    }

    /**
     * A pool full of live 1 MiB blocks while another thread churns 64 KiB ones (each "collection" here frees one, as
     * that thread's cleaners would): a 1 MiB request the collection cannot serve backs off requests as large, and the
     * small blocks that keep coming back, or a small request served, do not end that back-off (breaker13: every large
     * request paid a collection and a wait, 300 ms each, for 20 s).
     */
    @Test
    @Timeout(60)
    void smallBlocksComingBackDoNotEndTheBackOffOfLargerRequests() throws Exception {
        try (VolatilePool pool = VolatilePool.create("reclaimer", dir, 16L << 20)) {
            while (pool.malloc(1 << 20) != 0) {
                // live data
            }
            List<Long> small = new ArrayList<>();
            for (long a; (a = pool.malloc(64 << 10)) != 0; ) {
                small.add(a);
            }
            Site site = site(pool);
            Reclaimer[] r = new Reclaimer[1];
            r[0] = reclaimer(pool, () -> { // a collection after which one small block came back
                pool.free(small.removeLast());
                r[0].released(0);
            });
            for (int i = 0; i < 10; i++) {
                assertEquals(0, r[0].collectAndRetry(site, 1 << 20, 16, r[0].ticket()), "a 1 MiB hole appeared");
            }
            assertTrue(r[0].backingOff(pool, 1 << 20), "blocks came back, but none made room for 1 MiB");
            assertTrue(r[0].backingOff(pool, (1 << 20) - 4096), "a little smaller backs off too: else each costs a collection");
            assertFalse(r[0].backingOff(pool, 64 << 10), "much smaller requests still collect");
            assertNotEquals(0, r[0].collectAndRetry(site, 64 << 10, 16, r[0].ticket()));
            assertTrue(r[0].backingOff(pool, 1 << 20), "a small request served says nothing of large ones");
        }
    }

    /**
     * Blocks that keep coming back on the cleaner thread without making room do not hold a request for ever: the wait
     * for the cleaner has a bound of its own (a hang would end in this test's timeout).
     */
    @Test
    @Timeout(10) // the bound is 60 ms; without it this request was held 24 s
    void aCleanerThatKeepsReleasingSmallBlocksDoesNotHoldARequestForEver() throws Exception {
        try (VolatilePool pool = VolatilePool.create("reclaimer", dir, 16L << 20)) {
            while (pool.malloc(1 << 20) != 0) {
                // live data
            }
            Reclaimer r = reclaimer(pool, () -> { });
            r.releasedByCleaner(pool);
            Thread cleaner = Thread.ofPlatform().daemon().start(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    r.released(0); // a small block back, again and again, never room for 1 MiB
                    Thread.onSpinWait();
                }
            });
            try {
                assertEquals(0, r.collectAndRetry(site(pool), 1 << 20, 16, r.ticket()));
            } finally {
                cleaner.interrupt();
                cleaner.join();
            }
        }
    }

    /**
     * However often a collection failed, the back-off ends within a second: live data that became garbage meanwhile is
     * found only by a collection (breaker14: with 30 s, large requests went to DRAM for seconds after it was dropped).
     */
    @Test
    @Timeout(60)
    void theBackOffEndsWithinASecondHoweverOftenCollectionsFailed() throws Exception {
        try (VolatilePool pool = VolatilePool.create("reclaimer", dir, 16L << 20)) {
            while (pool.malloc(1 << 20) != 0) {
                // live data
            }
            Site site = site(pool);
            Reclaimer r = reclaimer(pool, () -> { });
            for (int i = 0; i < 30; i++) {
                r.collectAndRetry(site, 1 << 20, 16, r.ticket());
            }
            assertTrue(r.backingOff(pool, 1 << 20));
            Thread.sleep(1100);
            assertFalse(r.backingOff(pool, 1 << 20), "still backing off after a second");
        }
    }
}
