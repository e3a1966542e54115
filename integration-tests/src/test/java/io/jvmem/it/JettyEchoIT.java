package io.jvmem.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * A Jetty 12 HTTP server and client echoing request bodies over loopback ({@link JettyEcho}) in a forked JVM under
 * the agent.
 *
 * <p>Both sides use an {@code ArrayByteBufferPool} with direct input and output buffers; the pool allocates its
 * direct buffers with {@code ByteBuffer.allocateDirect} in {@code org.eclipse.jetty.util.BufferUtil.allocateDirect}
 * and keeps them for reuse (it never frees them explicitly: a buffer it drops goes to the GC). Jetty needs no JVM
 * flag.
 */
@org.junit.jupiter.api.Tag("integration")
class JettyEchoIT {
    static final String[] JETTY_FLAGS = {
            // Jetty logs through SLF4J, and there is no SLF4J provider here: silence its "no providers" notice.
            "-Dslf4j.internal.verbosity=ERROR"};
    static final String ALLOCATE_DIRECT = "org.eclipse.jetty.util.BufferUtil.allocateDirect";

    static Forked.Run routed(String name, String include) {
        return Forked.prepare(name)
                .pool("jetty", "volatile", "256m")
                .route("jetty", "jetty", include);
    }

    @Test
    void byteBufferPoolDirectBuffersComeFromThePool() {
        Forked.Result r = routed("jetty-routed", "org.eclipse.jetty").jvm(JETTY_FLAGS).exec(JettyEcho.class);
        String ok = r.assertOk("JETTY OK ");
        assertEquals(300, r.okValue(ok, "requests"), ok);
        assertEquals(0, r.okValue(ok, "serverHeapChunks"), ok);
        Report rep = r.report();
        Map<String, Object> route = rep.route("jetty");
        rep.assertField(route, "pool", "jetty");
        assertTrue(rep.number(route, "allocations") > 0, "no allocation went through route jetty:\n" + rep.dump);
        assertEquals(0, rep.number(route, "fallbacks"), "a 256 MiB pool should serve everything:\n" + rep.dump);
        Map<String, Object> pool = rep.pool("jetty");
        rep.assertField(pool, "kind", "volatile");
        assertEquals(rep.number(route, "allocations"), rep.number(pool, "allocations"), rep.dump);

        // Every direct buffer the two ByteBufferPools hold at the end is a live pool block.
        long pooledDirect = r.okValue(ok, "serverPoolDirectBytes") + r.okValue(ok, "clientPoolDirectBytes");
        assertTrue(pooledDirect > 0, ok);
        assertTrue(rep.number(route, "inUse") >= pooledDirect,
                "Jetty's pools hold " + pooledDirect + " B of direct buffers, the route has less in use:\n" + rep.dump);
        assertTrue(rep.number(pool, "inUse") >= pooledDirect, rep.dump);
        assertTrue(rep.siteAllocations("jetty", ALLOCATE_DIRECT)
                        >= r.okValue(ok, "serverPoolDirectBuffers") + r.okValue(ok, "clientPoolDirectBuffers"),
                "the pooled direct buffers did not all come from " + ALLOCATE_DIRECT + ":\n" + rep.dump);
        assertTrue(rep.sites().stream().filter(s -> "jetty".equals(s.get("route")))
                        .allMatch(s -> rep.string(s, "site").startsWith("org.eclipse.jetty.")
                                && "allocateDirect".equals(s.get("call"))), rep.dump);
        rep.assertNoReleaseErrors();
        r.assertClean();
    }

    @Test
    void nothingRoutedWhenJettyIsNotIncluded() {
        Forked.Result r = routed("jetty-unrouted", "some.other.pkg").jvm(JETTY_FLAGS).exec(JettyEcho.class);
        r.assertOk("JETTY OK ");
        Report rep = r.report();
        rep.assertNothingRouted("jetty");
        r.assertClean();
    }
}
