package io.jvmem.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * Agrona 2.x buffers and ring buffers ({@link AgronaRing}) in a forked JVM under the agent.
 *
 * <p>Agrona gets all its direct memory with {@code ByteBuffer.allocateDirect} (in
 * {@code org.agrona.ExpandableDirectByteBuffer}, {@code org.agrona.BufferUtil.allocateDirectAligned},
 * {@code org.agrona.ExpandableRingBuffer}) and releases it with {@code BufferUtil.free}, which calls
 * {@code jdk.internal.misc.Unsafe.invokeCleaner} through its generated {@code org.agrona.UnsafeApi}. Agrona has no
 * {@code sun.misc.Unsafe} call at all: {@code UnsafeApi.allocateMemory/reallocateMemory/freeMemory} call
 * {@code jdk.internal.misc.Unsafe}, which the agent does not rewrite, and no Agrona class calls them. Agrona 2.x
 * needs {@code --add-exports java.base/jdk.internal.misc=ALL-UNNAMED} on any JDK 17+ (without it
 * {@code UnsafeApi}'s static initializer throws {@code IllegalAccessError}).
 */
@org.junit.jupiter.api.Tag("integration")
class AgronaRingIT {
    static final String[] AGRONA_FLAGS = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"};

    static Forked.Run routed(String name, String include) {
        return Forked.prepare(name)
                .pool("agrona", "volatile", "256m")
                .route("agrona", "agrona", include);
    }

    @Test
    void agronaBuffersAndRingBuffersComeFromThePool() {
        Forked.Result r = routed("agrona-routed", "org.agrona").jvm(AGRONA_FLAGS).exec(AgronaRing.class);
        String ok = r.assertOk("AGRONA OK ");
        Report rep = r.report();
        Map<String, Object> route = rep.route("agrona");
        rep.assertField(route, "pool", "agrona");
        assertTrue(rep.number(route, "allocations") > 0, "no allocation went through route agrona:\n" + rep.dump);
        assertEquals(0, rep.number(route, "fallbacks"), "a 256 MiB pool should serve everything:\n" + rep.dump);
        Map<String, Object> pool = rep.pool("agrona");
        rep.assertField(pool, "kind", "volatile");
        assertEquals(rep.number(route, "allocations"), rep.number(pool, "allocations"),
                "every pool allocation should come through route agrona:\n" + rep.dump);
        assertEquals(200_000, r.okValue(ok, "ringMessages"), ok);
        assertTrue(rep.number(pool, "peakInUse") >= AgronaRing.RING_CAPACITY,
                "the 1 MiB ring buffer alone should have been in the pool:\n" + rep.dump);
        // BufferUtil.free (UnsafeApi.invokeCleaner -> the pool buffer's own cleaner) returned a block at least.
        assertTrue(rep.number(pool, "frees") > 0, "pool agrona saw no free:\n" + rep.dump);
        rep.assertNoReleaseErrors();

        // Every growth of the ExpandableDirectByteBuffer is one allocateDirect in ensureCapacity.
        assertEquals(r.okValue(ok, "growths"),
                rep.siteAllocations("agrona", "org.agrona.ExpandableDirectByteBuffer.ensureCapacity"),
                "ExpandableDirectByteBuffer growths vs its allocateDirect site:\n" + rep.dump);
        assertEquals(1, rep.siteAllocations("agrona", "org.agrona.ExpandableDirectByteBuffer.<init>"), rep.dump);
        // 16 aligned test buffers and the ring buffer's memory.
        assertEquals(17, rep.siteAllocations("agrona", "org.agrona.BufferUtil.allocateDirectAligned"), rep.dump);
        assertTrue(rep.siteAllocations("agrona", "org.agrona.ExpandableRingBuffer.resize") > 0,
                "the direct ExpandableRingBuffer grew without going through the pool:\n" + rep.dump);
        List<Map<String, Object>> sites = rep.sites().stream().filter(s -> "agrona".equals(s.get("route"))).toList();
        assertTrue(sites.stream().allMatch(s -> rep.string(s, "site").startsWith("org.agrona.")), rep.dump);
        // UnsafeApi's allocateMemory/reallocateMemory (jdk.internal.misc.Unsafe) are routed sites too; this program
        // allocates only through ByteBuffer.allocateDirect.
        assertTrue(sites.stream().filter(s -> rep.number(s, "allocations") > 0)
                        .allMatch(s -> "allocateDirect".equals(s.get("call"))), rep.dump);
        assertTrue(sites.stream().anyMatch(s -> rep.string(s, "site").startsWith("org.agrona.UnsafeApi.allocateMemory(")),
                "Agrona's UnsafeApi.allocateMemory (jdk.internal.misc.Unsafe) was not rewritten:\n" + rep.dump);
        r.assertClean();
    }

    @Test
    void anAllocateMemoryOnlyRouteTakesNothingFromAgronasBufferAllocations() {
        // Agrona's UnsafeApi.allocateMemory is rewritten, but nothing in this program calls it:
        // a route limited to allocateMemory takes nothing from Agrona.
        Forked.Result r = routed("agrona-calls", "org.agrona")
                .set("route.agrona.calls", "allocateMemory")
                .jvm(AGRONA_FLAGS).exec(AgronaRing.class);
        r.assertOk("AGRONA OK ");
        Report rep = r.report();
        assertEquals(0, rep.number(rep.route("agrona"), "allocations"),
                "Agrona made an allocateMemory call through a rewritten site:\n" + rep.dump);
        assertEquals(0, rep.number(rep.pool("agrona"), "allocations"), rep.dump);
        r.assertClean();
    }

    @Test
    void nothingRoutedWhenAgronaIsNotIncluded() {
        Forked.Result r = routed("agrona-unrouted", "some.other.pkg").jvm(AGRONA_FLAGS).exec(AgronaRing.class);
        r.assertOk("AGRONA OK ");
        Report rep = r.report();
        rep.assertNothingRouted("agrona");
        r.assertClean();
    }
}
