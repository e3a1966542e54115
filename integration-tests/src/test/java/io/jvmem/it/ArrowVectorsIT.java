package io.jvmem.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * Apache Arrow vectors on a {@code RootAllocator} with the Unsafe allocation manager ({@link ArrowVectors}) in a
 * forked JVM under the agent.
 *
 * <p>Arrow allocates every buffer with {@code sun.misc.Unsafe.allocateMemory} in
 * {@code org.apache.arrow.memory.util.MemoryUtil.allocateMemory} and frees it with {@code Unsafe.freeMemory}
 * (reached from {@code UnsafeAllocationManager}); {@code MemoryUtil}'s static initializer also probes with a
 * one-byte {@code ByteBuffer.allocateDirect} and a one-byte {@code allocateMemory}/{@code freeMemory}. Arrow needs
 * {@code --add-opens=java.base/java.nio=ALL-UNNAMED} (on the class path; {@code org.apache.arrow.memory.core} on
 * the module path) for {@code ArrowBuf.nioBuffer()}, which builds a {@code DirectByteBuffer} over its memory with
 * the JDK's private constructor; without it that call throws {@code UnsupportedOperationException}.
 */
@org.junit.jupiter.api.Tag("integration")
class ArrowVectorsIT {
    static final String[] ARROW_FLAGS = {"--add-opens=java.base/java.nio=ALL-UNNAMED",
            // Arrow logs through SLF4J, and there is no SLF4J provider here: silence its "no providers" notice.
            "-Dslf4j.internal.verbosity=ERROR"};
    static final String ALLOCATE_MEMORY = "org.apache.arrow.memory.util.MemoryUtil.allocateMemory";

    static Forked.Run routed(String name, String include) {
        return Forked.prepare(name)
                .pool("arrow", "volatile", "256m")
                .route("arrow", "arrow", include);
    }

    @Test
    void arrowBuffersComeFromThePoolAndAreAllFreedBackToIt() {
        Forked.Result r = routed("arrow-routed", "org.apache.arrow").jvm(ARROW_FLAGS).exec(ArrowVectors.class);
        String ok = r.assertOk("ARROW OK ");
        assertTrue(ok.contains(" leaked=0"), ok);
        Report rep = r.report();
        Map<String, Object> route = rep.route("arrow");
        rep.assertField(route, "pool", "arrow");
        assertTrue(rep.number(route, "allocations") > 0, "no allocation went through route arrow:\n" + rep.dump);
        assertEquals(0, rep.number(route, "fallbacks"), "a 256 MiB pool should serve everything:\n" + rep.dump);
        Map<String, Object> pool = rep.pool("arrow");
        rep.assertField(pool, "kind", "volatile");
        assertEquals(rep.number(route, "allocations"), rep.number(pool, "allocations"), rep.dump);
        assertTrue(rep.number(pool, "peakInUse") >= r.okValue(ok, "peakAllocated"),
                "Arrow's own peak (" + r.okValue(ok, "peakAllocated") + " B) was not in the pool:\n" + rep.dump);

        // Arrow's buffers: Unsafe.allocateMemory in MemoryUtil, every one freed (Unsafe.freeMemory) back to the pool.
        Map<String, Object> site = rep.sites().stream()
                .filter(s -> "arrow".equals(s.get("route")) && rep.string(s, "site").startsWith(ALLOCATE_MEMORY + "("))
                .findFirst().orElseThrow(() -> new AssertionError("no site " + ALLOCATE_MEMORY + ":\n" + rep.dump));
        rep.assertField(site, "call", "allocateMemory");
        long arrowAllocations = rep.number(site, "allocations");
        assertTrue(arrowAllocations > 10, "Arrow's vectors grow by reallocating: expected many allocations:\n" + rep.dump);
        assertTrue(rep.number(site, "peakInUse") >= r.okValue(ok, "peakAllocated"), rep.dump);
        assertEquals(0, rep.number(site, "inUse"), "Arrow freed all its buffers (no leak), so should the pool:\n" + rep.dump);
        assertTrue(rep.number(pool, "frees") >= arrowAllocations,
                "Arrow's Unsafe.freeMemory calls did not all reach the pool:\n" + rep.dump);
        assertTrue(rep.sites().stream().filter(s -> "arrow".equals(s.get("route")))
                        .allMatch(s -> rep.string(s, "site").startsWith("org.apache.arrow.")), rep.dump);
        rep.assertNoReleaseErrors();
        r.assertClean();
    }

    @Test
    void minSizeSplitsArrowBuffersBetweenPoolAndJdkAndEachFreeFindsItsOwner() {
        // Buffers under 64 KiB stay with the JDK, larger ones go to the pool; both kinds are freed through the same
        // Unsafe.freeMemory call site in MemoryUtil, which must send each address back where it came from.
        Forked.Result r = routed("arrow-min-size", "org.apache.arrow")
                .set("route.arrow.min-size", "64k")
                .jvm(ARROW_FLAGS).exec(ArrowVectors.class);
        String ok = r.assertOk("ARROW OK ");
        assertTrue(ok.contains(" leaked=0"), ok);
        Report rep = r.report();
        Map<String, Object> route = rep.route("arrow");
        assertTrue(rep.number(route, "allocations") > 0, "no Arrow buffer of 64 KiB or more was routed:\n" + rep.dump);
        assertTrue(rep.number(route, "belowMinSize") > 0, "no Arrow buffer under 64 KiB was left to the JDK:\n" + rep.dump);
        Map<String, Object> pool = rep.pool("arrow");
        assertEquals(rep.number(pool, "allocations"), rep.number(pool, "frees"),
                "every pool block Arrow got was freed back to the pool:\n" + rep.dump);
        assertEquals(0, rep.number(pool, "inUse"), rep.dump);
        assertTrue(rep.number(route, "bytes") >= 65536 * rep.number(route, "allocations"),
                "a routed request was under min-size:\n" + rep.dump);
        rep.assertNoReleaseErrors();
        r.assertClean();
    }

    @Test
    void theAgentDoesNotOpenJavaNioToTheApplication() {
        // Without --add-opens the JDK refuses Arrow the DirectByteBuffer constructor; the agent must not change that.
        Forked.Result r = routed("arrow-no-add-opens", "some.other.pkg")
                .jvm("-Dslf4j.internal.verbosity=ERROR").exec(ArrowVectors.class);
        assertEquals(1, r.exitCode(), "Arrow's nioBuffer() worked without --add-opens: the agent opened java.nio to "
                + "the class path" + r.describe());
        assertTrue(r.stdout().contains("ARROW FAIL java.lang.UnsupportedOperationException: sun.misc.Unsafe or "
                + "java.nio.DirectByteBuffer.<init>(long, int) not available"), r.describe());
    }

    @Test
    void nothingRoutedWhenArrowIsNotIncluded() {
        Forked.Result r = routed("arrow-unrouted", "some.other.pkg").jvm(ARROW_FLAGS).exec(ArrowVectors.class);
        String ok = r.assertOk("ARROW OK ");
        assertTrue(ok.contains(" leaked=0"), ok);
        Report rep = r.report();
        rep.assertNothingRouted("arrow");
        assertEquals(0, rep.number(rep.pool("arrow"), "frees"),
                "Arrow's JDK addresses must not reach the pool's free:\n" + rep.dump);
        r.assertClean();
    }
}
