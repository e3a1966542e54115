package io.jvmem.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * H2 on its nioMemFS file system (database file in direct ByteBuffers, allocated in
 * {@code org.h2.store.fs.niomem.FileNioMemData}), in a forked JVM under the agent.
 */
@org.junit.jupiter.api.Tag("integration")
class H2MemIT {

    static void assertRouted(Forked.Result r, String kind) {
        Report rep = r.report();
        Map<String, Object> route = rep.route("h2");
        rep.assertField(route, "pool", "h2");
        assertTrue(rep.number(route, "allocations") > 0, "no allocation went through route h2:\n" + rep.dump);
        assertTrue(rep.number(route, "bytes") > 0, "route h2 counted no bytes:\n" + rep.dump);
        Map<String, Object> pool = rep.pool("h2");
        rep.assertField(pool, "kind", kind);
        assertTrue(rep.number(pool, "allocations") > 0, "pool h2 made no allocation:\n" + rep.dump);
        assertTrue(rep.sites().stream().anyMatch(s -> "h2".equals(s.get("route"))
                        && rep.string(s, "site").startsWith("org.h2.store.fs.niomem.")
                        && "allocateDirect".equals(s.get("call")) && rep.number(s, "allocations") > 0),
                "no allocateDirect site in org.h2.store.fs.niomem with allocations on route h2:\n" + rep.dump);
    }

    @Test
    void nioMemFsBuffersGoToThePool() {
        Forked.Result r = Forked.prepare("h2-routed")
                .pool("h2", "volatile", "256m")
                .route("h2", "h2", "org.h2")
                .exec(H2Mem.class);
        r.assertOk("H2 OK ");
        assertRouted(r, "volatile");
        r.assertClean();
    }

    @Test
    void nioMemFsBuffersGoToACtoPool() {
        Forked.Result r = Forked.prepare("h2-cto")
                .ctoPool("h2", "256m")
                .route("h2", "h2", "org.h2.store.fs")
                .exec(H2Mem.class);
        r.assertOk("H2 OK ");
        assertRouted(r, "cto");
        r.assertClean();
    }

    @Test
    void nothingRoutedWhenH2IsNotIncluded() {
        Forked.Result r = Forked.prepare("h2-unrouted")
                .pool("h2", "volatile", "256m")
                .route("h2", "h2", "some.other.pkg")
                .exec(H2Mem.class);
        r.assertOk("H2 OK ");
        Report rep = r.report();
        rep.assertNothingRouted("h2");
        r.assertClean();
    }

    @Test
    void minSizeLeavesSmallerAllocationsAlone() {
        // nioMemFS allocates 64 KiB blocks (BLOCK_SIZE = 1 << 16): a 1 MiB minimum routes none of them.
        Forked.Result r = Forked.prepare("h2-min-size")
                .pool("h2", "volatile", "256m")
                .route("h2", "h2", "org.h2")
                .set("route.h2.min-size", 1 << 20)
                .exec(H2Mem.class);
        r.assertOk("H2 OK ");
        Report rep = r.report();
        assertEquals(0, rep.number(rep.route("h2"), "allocations"), "min-size 1 MiB > every nioMemFS block:\n" + rep.dump);
        r.assertClean();
    }
}
