package io.jvmem.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Apache DataSketches 9.1 ({@link SketchesOffHeap}), whose sketches live in {@code MemorySegment}s, in a forked JVM
 * under the agent with the JDK's defaults (plus {@code --enable-native-access=ALL-UNNAMED}, which the pools need;
 * DataSketches 9 uses no {@code sun.misc.Unsafe}).
 *
 * <p>datasketches-java 9.x (built for JDK 25) carries its memory layer itself on {@code java.lang.foreign};
 * datasketches-memory 5 and 6 are JDK 21 preview builds that JDK 25 cannot load, and datasketches-java 9 does not use
 * them. Its only off-heap allocation is {@code MemorySegmentRequestExample.request}: one {@code Arena.ofConfined()} per
 * segment a growing sketch asks for, closed when the sketch gives the segment back ({@code requestClose}) or at
 * {@code cleanup}. Everything else it does off heap is in segments its caller gives it. Measured: 59 requested
 * segments (265 KB in pool blocks) for the eight KLL sketches, every one back in the pool before exit.
 */
@org.junit.jupiter.api.Tag("integration")
class SketchesOffHeapIT {
    static final String DATASKETCHES = "org.apache.datasketches";
    static final String REQUEST = DATASKETCHES + ".common.MemorySegmentRequestExample.request";
    static final String PROGRAM = SketchesOffHeap.class.getName();

    static Forked.Result run(String name, String include) {
        return Forked.prepare(name)
                .pool("sketches", "volatile", "64m")
                .route("sketches", "sketches", include)
                .defaultUnsafeMemoryAccess()
                .exec(SketchesOffHeap.class);
    }

    /** The sketches matched their on-heap twins and the KLL sketches grew through the library's request. */
    static String assertSketchesOk(Forked.Result r) {
        String ok = r.assertOk("SKETCHES OK ");
        assertEquals(SketchesOffHeap.KLL_SKETCHES, r.okValue(ok, "kllGrown"), ok);
        assertTrue(r.okValue(ok, "requests") >= SketchesOffHeap.KLL_SKETCHES, ok);
        return ok;
    }

    /** Allocations counted on the route at sites whose text starts with {@code prefix}. */
    static long allocationsUnder(Report rep, String prefix) {
        return rep.sites().stream()
                .filter(s -> "sketches".equals(s.get("route")) && rep.string(s, "site").startsWith(prefix))
                .mapToLong(s -> rep.number(s, "allocations")).sum();
    }

    /** Nothing unrouted, nothing fell back, every block back in the pool by exit. */
    static void assertAllReturned(Report rep, long allocations) {
        Map<String, Object> route = rep.route("sketches");
        assertEquals(allocations, rep.number(route, "allocations"), rep.dump);
        assertEquals(List.of(), route.get("unrouted"), "DataSketches allocates only through Arena.allocate calls, "
                + "which the agent routes:\n" + rep.dump);
        assertEquals(0, rep.number(route, "fallbacks"), rep.dump);
        assertEquals(0, rep.number(route, "inUse"), "every arena was closed before exit:\n" + rep.dump);
        Map<String, Object> pool = rep.pool("sketches");
        assertEquals(allocations, rep.number(pool, "allocations"), rep.dump);
        assertEquals(allocations, rep.number(pool, "frees"), "closing the arenas should return every block:\n" + rep.dump);
        rep.assertNoReleaseErrors();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void segmentsTheLibraryRequestsForGrowingSketchesComeFromThePoolAndGoBack() {
        Forked.Result r = run("sketches-library", DATASKETCHES);
        String ok = assertSketchesOk(r);
        Report rep = r.report();
        long requests = r.okValue(ok, "requests");
        assertEquals(requests, rep.siteAllocations("sketches", REQUEST),
                "every segment MemorySegmentRequestExample handed a KLL sketch should be a pool block:\n" + rep.dump);
        assertTrue(rep.sites().stream().filter(s -> "sketches".equals(s.get("route")) && rep.number(s, "allocations") > 0)
                .allMatch(s -> "arena".equals(s.get("call")) && rep.string(s, "site").startsWith(REQUEST + "(")),
                "the library allocates nowhere else:\n" + rep.dump);
        assertEquals(0, allocationsUnder(rep, PROGRAM + "."), "the program's own segments are not routed here:\n" + rep.dump);
        assertAllReturned(rep, requests);
        r.assertClean();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void sketchesBuiltInTheProgramsPoolSegmentsEqualTheirHeapTwins() {
        // Theta and HLL in segments of the program's confined arena, compared byte for byte with on-heap sketches;
        // the KLL sketches start in slices of one shared-arena segment, sliced by the JDK's slicingAllocator.
        Forked.Result r = run("sketches-program", PROGRAM);
        String ok = assertSketchesOk(r);
        Report rep = r.report();
        assertEquals(1, rep.siteAllocations("sketches", PROGRAM + ".theta"), rep.dump);
        assertEquals(1, rep.siteAllocations("sketches", PROGRAM + ".hll"), rep.dump);
        assertEquals(1, rep.siteAllocations("sketches", PROGRAM + ".kllBlock"), rep.dump);
        // slicingAllocator(...).allocate is rewritten like any SegmentAllocator call, but a slicing allocator is no
        // arena: its slices are the pool segment's own, not new blocks.
        assertEquals(r.okValue(ok, "programSegments"), allocationsUnder(rep, PROGRAM + "."),
                "the slices were counted as allocations:\n" + rep.dump);
        assertEquals(0, allocationsUnder(rep, DATASKETCHES + "."), rep.dump);
        assertAllReturned(rep, r.okValue(ok, "programSegments"));
        r.assertClean();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void withTheProgramAndTheLibraryBothRoutedEverySegmentIsAPoolBlock() {
        Forked.Result r = run("sketches-both", PROGRAM + "," + DATASKETCHES);
        String ok = assertSketchesOk(r);
        Report rep = r.report();
        long programSegments = r.okValue(ok, "programSegments");
        long requests = r.okValue(ok, "requests");
        assertEquals(programSegments, allocationsUnder(rep, PROGRAM + "."), rep.dump);
        assertEquals(requests, rep.siteAllocations("sketches", REQUEST), rep.dump);
        assertAllReturned(rep, programSegments + requests);
        r.assertClean();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void withThePackagesLeftOutNothingIsRouted() {
        Forked.Result r = run("sketches-unrouted", "some.other.pkg");
        assertSketchesOk(r);
        Report rep = r.report();
        rep.assertNothingRouted("sketches");
        assertEquals(0, rep.number(rep.pool("sketches"), "frees"), "the JDK's arenas must not free into the pool:\n"
                + rep.dump);
        assertEquals(List.of(), rep.route("sketches").get("unrouted"), rep.dump);
        r.assertClean();
    }
}
