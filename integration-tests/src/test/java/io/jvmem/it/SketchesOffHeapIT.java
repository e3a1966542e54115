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
 *
 * <p>The program's own {@code MemorySegmentRequest}s show the two ways an application may hand the library an arena's
 * {@code allocate} as a method reference: a bound {@code arena::allocate} is routed (9 segments), an unbound
 * {@code Arena::allocate} is not (the arena is known only when it is applied) and is the route's one {@code unrouted}
 * entry, with the agent's one {@code jvmem: not routed} line.
 */
@org.junit.jupiter.api.Tag("integration")
class SketchesOffHeapIT {
    static final String DATASKETCHES = "org.apache.datasketches";
    static final String REQUEST = DATASKETCHES + ".common.MemorySegmentRequestExample.request";
    static final String PROGRAM = SketchesOffHeap.class.getName();
    /** The program's unbound {@code Arena::allocate} reference, which the agent reports instead of routing. */
    static final String UNBOUND = PROGRAM + "$UnboundRequest: unbound method reference "
            + "java.lang.foreign.SegmentAllocator::allocate at " + PROGRAM + "$UnboundRequest.<clinit>(";

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

    /** Nothing fell back, every block back in the pool by exit, nothing unrouted: DataSketches calls Arena.allocate. */
    static void assertAllReturned(Report rep, long allocations) {
        assertEquals(List.of(), rep.route("sketches").get("unrouted"), "DataSketches allocates only through "
                + "Arena.allocate calls, which the agent routes:\n" + rep.dump);
        assertAllReturnedBut(rep, allocations);
    }

    static void assertAllReturnedBut(Report rep, long allocations) {
        Map<String, Object> route = rep.route("sketches");
        assertEquals(allocations, rep.number(route, "allocations"), rep.dump);
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
        assertEquals(0, allocationsUnder(rep, PROGRAM), "the program's own segments are not routed here:\n" + rep.dump);
        assertAllReturned(rep, requests);
        r.assertClean();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void sketchesBuiltInTheProgramsPoolSegmentsEqualTheirHeapTwins() {
        // Theta and HLL in segments of the program's confined arena, compared byte for byte with on-heap sketches;
        // the KLL sketches start in slices of one shared-arena segment, sliced by the JDK's slicingAllocator; two
        // more get their segments from the program's requests (bound and unbound Arena::allocate references).
        Forked.Result r = run("sketches-program", PROGRAM);
        String ok = assertSketchesOk(r);
        Report rep = r.report();
        assertEquals(1, rep.siteAllocations("sketches", PROGRAM + ".theta"), rep.dump);
        assertEquals(1, rep.siteAllocations("sketches", PROGRAM + ".hll"), rep.dump);
        assertEquals(1, rep.siteAllocations("sketches", PROGRAM + ".kllBlock"), rep.dump);
        long bound = r.okValue(ok, "boundRequests");
        assertTrue(bound > 0, ok);
        assertEquals(bound, rep.siteAllocations("sketches", PROGRAM + "$BoundRequest.<init>"),
                "every segment from the bound arena::allocate reference should be a pool block:\n" + rep.dump);
        // slicingAllocator(...).allocate is rewritten like any SegmentAllocator call, but a slicing allocator is no
        // arena: its slices are the pool segment's own, not new blocks.
        assertEquals(r.okValue(ok, "programSegments") + bound, allocationsUnder(rep, PROGRAM),
                "the slices, or the unbound reference's segments, were counted as allocations:\n" + rep.dump);
        assertEquals(0, allocationsUnder(rep, DATASKETCHES + "."), rep.dump);
        assertUnboundReferenceReported(r, rep);
        assertAllReturnedBut(rep, r.okValue(ok, "programSegments") + bound);
    }

    /**
     * The unbound {@code Arena::allocate} reference is the route's one unrouted entry, and the agent's one line;
     * its segments (the JDK's) worked all the same: the program checked its sketch.
     */
    static void assertUnboundReferenceReported(Forked.Result r, Report rep) {
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> unrouted = (List<Map<String, Object>>) rep.route("sketches").get("unrouted");
        assertEquals(1, unrouted.size(), "expected the unbound reference alone:\n" + rep.dump);
        String where = rep.string(unrouted.get(0), "where");
        assertTrue(where.startsWith(UNBOUND), where + "\n" + rep.dump);
        assertTrue(r.okValue(r.assertOk("SKETCHES OK "), "unboundRequests") > 0, r.describe());
        assertEquals(List.of("jvmem: not routed (route sketches): " + where), r.warningLines(), r.describe());
        rep.assertNoRewriteFailures();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void withTheProgramAndTheLibraryBothRoutedEverySegmentIsAPoolBlock() {
        Forked.Result r = run("sketches-both", PROGRAM + "," + DATASKETCHES);
        String ok = assertSketchesOk(r);
        Report rep = r.report();
        long program = r.okValue(ok, "programSegments") + r.okValue(ok, "boundRequests");
        long requests = r.okValue(ok, "requests");
        assertEquals(program, allocationsUnder(rep, PROGRAM), rep.dump);
        assertEquals(requests, rep.siteAllocations("sketches", REQUEST), rep.dump);
        assertUnboundReferenceReported(r, rep);
        assertAllReturnedBut(rep, program + requests);
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
