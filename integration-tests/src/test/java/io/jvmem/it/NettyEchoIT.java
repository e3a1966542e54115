package io.jvmem.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * Netty 4.1 echo over loopback with pooled direct buffers, in a forked JVM under the agent.
 *
 * <p>Netty gets its direct memory one of two ways, and both are covered: by default on JDK 9+ it calls
 * {@code ByteBuffer.allocateDirect} (in {@code io.netty.buffer.PoolArena$DirectArena}) and frees through the
 * buffer's cleaner; with {@code -Dio.netty.tryReflectionSetAccessible=true} and {@code java.nio} opened it takes
 * its "no cleaner" path, {@code Unsafe.allocateMemory/freeMemory} in {@code io.netty.util.internal.PlatformDependent0}.
 */
@org.junit.jupiter.api.Tag("integration")
class NettyEchoIT {
    static final String[] NETTY_FLAGS = {"-Dio.netty.noPreferDirect=false"};
    static final String[] NO_CLEANER_FLAGS = {"-Dio.netty.noPreferDirect=false",
            "-Dio.netty.tryReflectionSetAccessible=true", "--add-opens=java.base/java.nio=ALL-UNNAMED"};

    static Forked.Run routed(String name, String include) {
        return Forked.prepare(name)
                .pool("netty", "volatile", "256m")
                .route("netty", "netty", include);
    }

    static void assertRoutedToPool(Forked.Result r, String okLine, String expectedCall) {
        Report rep = r.report();
        Map<String, Object> route = rep.route("netty");
        rep.assertField(route, "pool", "netty");
        assertTrue(rep.number(route, "allocations") > 0, "no allocation went through route netty (" + okLine + "):\n" + rep.dump);
        assertTrue(rep.number(route, "bytes") > 0, "route netty counted no bytes:\n" + rep.dump);
        Map<String, Object> pool = rep.pool("netty");
        rep.assertField(pool, "kind", "volatile");
        assertTrue(rep.number(pool, "size") > 0, "pool size:\n" + rep.dump);
        assertTrue(rep.number(pool, "allocations") > 0, "pool netty made no allocation:\n" + rep.dump);
        assertTrue(rep.number(pool, "frees") > 0, "pool netty saw no free (Netty frees its huge buffers and "
                + "emptied chunks; " + okLine + "):\n" + rep.dump);
        assertTrue(rep.number(pool, "peakInUse") >= rep.number(pool, "inUse"), "peakInUse < inUse:\n" + rep.dump);
        assertTrue(rep.number(pool, "peakInUse") > 0, "pool netty peakInUse is 0:\n" + rep.dump);
        List<Map<String, Object>> sites = rep.sites().stream()
                .filter(s -> "netty".equals(s.get("route")))
                .toList();
        assertTrue(sites.stream().anyMatch(s -> rep.string(s, "site").startsWith("io.netty.")
                        && expectedCall.equals(s.get("call")) && rep.number(s, "allocations") > 0),
                "no site in io.netty with call " + expectedCall + " and allocations > 0 on route netty:\n" + rep.dump);
    }

    @Test
    void allocateDirectCallsGoToThePool() {
        Forked.Result r = routed("netty-routed", "io.netty").jvm(NETTY_FLAGS).exec(NettyEcho.class);
        String ok = r.assertOk("ECHO OK ");
        assertTrue(ok.contains("noCleaner=false"), "expected Netty's allocateDirect path: " + ok);
        assertRoutedToPool(r, ok, "allocateDirect");
        r.assertClean();
    }

    @Test
    void unsafeAllocateMemoryCallsGoToThePool() {
        Forked.Result r = routed("netty-nocleaner-routed", "io.netty").jvm(NO_CLEANER_FLAGS).exec(NettyEcho.class);
        String ok = r.assertOk("ECHO OK ");
        assertTrue(ok.contains("noCleaner=true"), "expected Netty's Unsafe (no cleaner) path: " + ok);
        assertRoutedToPool(r, ok, "allocateMemory");
        r.assertClean();
    }

    @Test
    void nothingRoutedWhenNettyIsNotIncluded() {
        Forked.Result r = routed("netty-unrouted", "some.other.pkg").jvm(NETTY_FLAGS).exec(NettyEcho.class);
        r.assertOk("ECHO OK ");
        Report rep = r.report();
        rep.assertNothingRouted("netty");
        r.assertClean();
    }

    @Test
    void excludeWinsOverInclude() {
        Forked.Result r = routed("netty-excluded", "io.netty")
                .set("route.netty.exclude", "io.netty.buffer,io.netty.util")
                .jvm(NO_CLEANER_FLAGS).exec(NettyEcho.class);
        r.assertOk("ECHO OK ");
        Report rep = r.report();
        assertEquals(0, rep.number(rep.route("netty"), "allocations"),
                "Netty allocates only in io.netty.buffer / io.netty.util, both excluded:\n" + rep.dump);
        r.assertClean();
    }

    @Test
    void callsLimitsWhichCallsARouteTakes() {
        // Netty's default path allocates with ByteBuffer.allocateDirect; a route for allocateMemory only leaves
        // those alone (the small Unsafe probe Netty makes at startup may still be routed).
        Forked.Result r = routed("netty-calls", "io.netty")
                .set("route.netty.calls", "allocateMemory")
                .jvm(NETTY_FLAGS).exec(NettyEcho.class);
        String ok = r.assertOk("ECHO OK ");
        assertTrue(ok.contains("noCleaner=false"), "expected Netty's allocateDirect path: " + ok);
        Report rep = r.report();
        assertTrue(rep.sites().stream().noneMatch(s -> "allocateDirect".equals(s.get("call"))
                        && "netty".equals(s.get("route")) && rep.number(s, "allocations") > 0),
                "an allocateDirect site was routed by a route with calls=allocateMemory:\n" + rep.dump);
        assertTrue(rep.number(rep.route("netty"), "bytes") < 1 << 20,
                "Netty's chunks (allocateDirect) went through a calls=allocateMemory route:\n" + rep.dump);
        r.assertClean();
    }

    @Test
    void smallPoolFallsBackToTheJdk() {
        // A pool of the smallest size the agent accepts (14 MiB) and two 16 MiB messages, which Netty allocates
        // whole (they are larger than its 4 MiB chunks): those cannot fit, and the default on-exhausted=fallback
        // hands them back to the JDK without the program noticing.
        Forked.Result r = Forked.prepare("netty-small-pool")
                .pool("netty", "volatile", "14m")
                .route("netty", "netty", "io.netty")
                .jvm(NETTY_FLAGS).exec(NettyEcho.class, String.valueOf(8 << 20), "42", "2", String.valueOf(16 << 20));
        r.assertOk("ECHO OK ");
        Report rep = r.report();
        assertTrue(rep.number(rep.route("netty"), "fallbacks") >= 2, "expected fallbacks on a 14 MiB pool:\n" + rep.dump);
        rep.assertNoRewriteFailures();
        // a fallback is never silent: one line the first time, one summary line at exit
        java.util.List<String> said = r.stderr().lines().filter(l -> l.startsWith("jvmem:")).toList();
        assertEquals(2, said.size(), said.toString());
        assertTrue(said.get(0).startsWith("jvmem: route netty fell back to the JDK (DRAM) for the first time: pool netty was"),
                said.get(0));
        assertTrue(said.get(1).startsWith("jvmem: route netty: "), said.get(1));
    }
}
