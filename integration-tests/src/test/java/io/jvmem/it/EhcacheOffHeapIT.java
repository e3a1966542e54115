package io.jvmem.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Ehcache 3.12 with a heap tier and a 64 MiB off-heap tier ({@link EhcacheOffHeap}) in a forked JVM under the agent.
 *
 * <p>Ehcache's off-heap store is Terracotta's offheap-store, shaded into the ehcache jar under
 * {@code org.ehcache.shadow.org.terracotta.offheapstore}. It takes the whole tier when the cache is created
 * ({@code UpfrontAllocatingPageSource}, in chunks of at most {@code maximumChunkSize}, 1 GiB by default, so one
 * 64 MiB chunk here), each chunk from one {@code ByteBuffer.allocateDirect} in
 * {@code OffHeapBufferSource.allocateBuffer}, which returns null on {@code OutOfMemoryError} so that the page source
 * retries with halved chunks. Ehcache never frees a chunk itself (no cleaner, no Unsafe, no reflection): closing the
 * cache manager drops the page source and the garbage collector reclaims the buffers. Nothing else in Ehcache reaches
 * off-heap memory in this use (the {@code com.terracottatech.frs} classes in the jar belong to the restartable store,
 * which is not used).
 *
 * <p>The JDK 25 default for {@code --sun-misc-unsafe-memory-access} (warn) makes the JVM print its own four-line
 * warning about Ehcache's {@code ThreadLocalRandomUtil} calling {@code Unsafe.objectFieldOffset}; the runs here
 * use Forked's flags, which silence it, except {@link #jdkDefaultFlagsStillPutTheTierInThePool}.
 */
@org.junit.jupiter.api.Tag("integration")
class EhcacheOffHeapIT {
    static final String STORE = "org.ehcache.shadow.org.terracotta.offheapstore";
    static final String ALLOCATE_BUFFER = STORE + ".buffersource.OffHeapBufferSource.allocateBuffer";
    static final long TIER = (long) EhcacheOffHeap.OFF_HEAP_MB << 20;
    static final int ENTRIES = 3000;
    // Ehcache logs through SLF4J, and there is no SLF4J provider here: silence its "no providers" notice.
    static final String QUIET_SLF4J = "-Dslf4j.internal.verbosity=ERROR";

    static Forked.Run routed(String name, String include) {
        return Forked.prepare(name)
                .pool("ehcache", "volatile", "256m")
                .route("ehcache", "ehcache", include)
                .jvm(QUIET_SLF4J);
    }

    /** Exit 0, the OK line, every value checked twice, and all but the heap tier's entries off heap. */
    static String assertCacheOk(Forked.Result r) {
        String ok = r.assertOk("EHCACHE OK ");
        assertEquals(2L * ENTRIES, r.okValue(ok, "checked"), ok);
        assertEquals(0, r.okValue(ok, "evictions"), ok);
        assertTrue(r.okValue(ok, "offHeapMappings") >= ENTRIES - EhcacheOffHeap.HEAP_ENTRIES,
                "most entries should live in the off-heap tier: " + ok);
        return ok;
    }

    /** The tier's chunks came from the pool through OffHeapBufferSource.allocateBuffer's allocateDirect. */
    static Map<String, Object> assertTierInPool(Report rep, long chunks) {
        Map<String, Object> route = rep.route("ehcache");
        rep.assertField(route, "pool", "ehcache");
        assertEquals(chunks, rep.number(route, "allocations"), "expected the tier in " + chunks + " chunk(s):\n" + rep.dump);
        assertEquals(TIER, rep.number(route, "bytes"), "the route's bytes should be the tier's size:\n" + rep.dump);
        assertEquals(0, rep.number(route, "fallbacks"), "a 256 MiB pool should serve the 64 MiB tier:\n" + rep.dump);
        assertEquals(0, rep.number(route, "failures"), rep.dump);
        assertEquals(List.of(), route.get("unrouted"),
                "Ehcache's store allocates only with allocateDirect, which the agent routes:\n" + rep.dump);
        List<Map<String, Object>> sites = rep.sites().stream().filter(s -> "ehcache".equals(s.get("route"))).toList();
        assertEquals(1, sites.size(), "one allocation site expected:\n" + rep.dump);
        Map<String, Object> site = sites.get(0);
        assertTrue(rep.string(site, "site").startsWith(ALLOCATE_BUFFER + "("), rep.dump);
        rep.assertField(site, "call", "allocateDirect");
        assertEquals(chunks, rep.number(site, "allocations"), rep.dump);
        assertEquals(TIER, rep.number(site, "peakInUse"), "the whole tier should have been in the pool at once:\n" + rep.dump);
        Map<String, Object> pool = rep.pool("ehcache");
        assertEquals(chunks, rep.number(pool, "allocations"), rep.dump);
        assertTrue(rep.number(pool, "peakInUse") >= TIER, rep.dump);
        rep.assertNoReleaseErrors();
        return route;
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void offHeapTierMemoryComesFromThePool() {
        Forked.Result r = routed("ehcache-routed", STORE).exec(EhcacheOffHeap.class);
        String ok = assertCacheOk(r);
        // The store takes the tier up front: what it holds (offHeapAllocated) is inside the 64 MiB chunk.
        assertTrue(r.okValue(ok, "offHeapAllocated") <= TIER, ok);
        // ... and none of it is the JDK's direct memory (DRAM): the JDK's own direct buffer pool does not hold it (it
        // holds 256 KiB here, the allocator's zero buffer for reserving the pool's tmpfs pages; 64 MiB more unrouted).
        assertTrue(r.okValue(ok, "jdkDirectBytes") < TIER, "the tier is in the JDK's direct memory: " + ok);
        assertTierInPool(r.report(), 1);
        r.assertClean();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void withTheStoreLeftOutNothingIsRouted() {
        // Ehcache's own classes are selected, its shaded store is not: the store is where all the memory comes from.
        Forked.Result r = routed("ehcache-store-excluded", "org.ehcache")
                .set("route.ehcache.exclude", STORE)
                .exec(EhcacheOffHeap.class);
        String ok = assertCacheOk(r);
        assertTrue(r.okValue(ok, "jdkDirectBytes") >= TIER, "the JDK's direct memory should hold the tier: " + ok);
        Report rep = r.report();
        rep.assertNothingRouted("ehcache");
        assertEquals(0, rep.number(rep.pool("ehcache"), "frees"),
                "the JDK's buffers must not reach the pool's free:\n" + rep.dump);
        assertEquals(List.of(), rep.route("ehcache").get("unrouted"), rep.dump);
        r.assertClean();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void closedCacheManagersOffHeapMemoryReturnsToThePoolWhenCollected() {
        // Ehcache frees nothing at close; the program then collects and watches the pool's MBean until the tier is back.
        Forked.Result r = routed("ehcache-close", STORE).exec(EhcacheOffHeap.class, "" + ENTRIES, "11", "ehcache");
        String ok = assertCacheOk(r);
        long before = r.okValue(ok, "poolInUseBeforeClose");
        long after = r.okValue(ok, "poolInUseAfterClose");
        assertTrue(before >= TIER, "the tier was not in the pool before close: " + ok);
        assertTrue(after <= before - TIER, "the tier did not come back to the pool after close and a collection: " + ok);
        Report rep = r.report();
        Map<String, Object> route = assertTierInPool(rep, 1);
        assertEquals(0, rep.number(route, "inUse"), "the closed tier's chunk is still in use at exit:\n" + rep.dump);
        Map<String, Object> pool = rep.pool("ehcache");
        assertEquals(rep.number(pool, "allocations"), rep.number(pool, "frees"),
                "every chunk should have gone back through its buffer's cleaner:\n" + rep.dump);
        assertEquals(0, rep.number(pool, "inUse"), rep.dump);
        r.assertClean();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void smallChunksAllocatedInParallelAllComeFromThePoolAndGoBack() {
        // Ehcache's advanced property caps the chunk size: the page source then allocates 16 chunks of 4 MiB from a
        // thread pool of its own (one thread per processor), all through the same call site.
        Forked.Result r = routed("ehcache-chunks", STORE)
                .jvm("-Dorg.ehcache.offheap.config.maximumChunkSize=4M")
                .exec(EhcacheOffHeap.class, "" + ENTRIES, "11", "ehcache");
        String ok = assertCacheOk(r);
        assertTrue(r.okValue(ok, "poolInUseAfterClose") <= r.okValue(ok, "poolInUseBeforeClose") - TIER, ok);
        Report rep = r.report();
        assertTierInPool(rep, 16);
        Map<String, Object> pool = rep.pool("ehcache");
        assertEquals(16, rep.number(pool, "frees"), "every chunk should have gone back to the pool:\n" + rep.dump);
        assertEquals(0, rep.number(pool, "inUse"), rep.dump);
        r.assertClean();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void jdkDefaultFlagsStillPutTheTierInThePool() {
        Forked.Result r = routed("ehcache-default-flags", STORE).defaultUnsafeMemoryAccess().exec(EhcacheOffHeap.class);
        assertCacheOk(r);
        assertTierInPool(r.report(), 1);
        r.report().assertNoRewriteFailures();
        // The only warning is the JDK's own, about Ehcache's use of sun.misc.Unsafe (not about the agent's).
        List<String> warnings = Stream.concat(r.stdout().lines(), r.stderr().lines())
                .filter(l -> l.contains("WARNING") || l.startsWith("jvmem:")).toList();
        assertTrue(warnings.stream().anyMatch(l -> l.startsWith("WARNING: sun.misc.Unsafe::objectFieldOffset has been "
                        + "called by org.ehcache.impl.internal.concurrent.ThreadLocalRandomUtil ")),
                "expected the JDK's warning about Ehcache's Unsafe use: " + warnings + r.describe());
        assertTrue(warnings.stream().allMatch(l -> l.startsWith("WARNING: ") && (l.contains("sun.misc.Unsafe")
                        || l.contains("org.ehcache."))),
                "a warning other than the JDK's about Ehcache's Unsafe use: " + warnings + r.describe());
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void tierLargerThanThePoolFallsBackToTheJdkAndSaysSo() {
        // A 48 MiB pool cannot hold the 64 MiB chunk: with the default on-exhausted=fallback the chunk comes from the
        // JDK at once (no collection is waited for), the cache works, and the agent says why.
        Forked.Result r = Forked.prepare("ehcache-small-pool")
                .pool("ehcache", "volatile", "48m")
                .route("ehcache", "ehcache", STORE)
                .jvm(QUIET_SLF4J)
                .exec(EhcacheOffHeap.class);
        String ok = assertCacheOk(r);
        assertTrue(r.okValue(ok, "jdkDirectBytes") >= TIER, "the fallen-back tier should be the JDK's: " + ok);
        Report rep = r.report();
        Map<String, Object> route = rep.route("ehcache");
        assertEquals(0, rep.number(route, "allocations"), rep.dump);
        assertEquals(1, rep.number(route, "fallbacks"), rep.dump);
        assertEquals(TIER, rep.number(route, "fallbackBytes"), rep.dump);
        @SuppressWarnings("unchecked")
        Map<String, Object> larger = (Map<String, Object>) ((Map<String, Object>) route.get("fallbackReasons"))
                .get("largerThanPool");
        assertEquals(TIER, rep.number(larger, "bytes"), rep.dump);
        assertTrue(r.stderr().lines().anyMatch(l -> l.startsWith("jvmem: route ehcache fell back to the JDK (DRAM)")
                && l.contains(ALLOCATE_BUFFER + "(")), "the agent should name the fallback and its site:" + r.describe());
        rep.assertNoReleaseErrors();
        rep.assertNoRewriteFailures();
    }
}
