package io.jvmem.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvmem.it.Forked.NettyJars;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Netty 4.2 (its jars in place of the module's 4.1, in forked JVMs) echoing over loopback with its default allocator
 * ({@code ByteBufAllocator.DEFAULT}: the adaptive pooling allocator, direct buffers) under the agent, with
 * {@code io.netty} routed to a pool.
 *
 * <p>Netty 4.2 on JDK 25 takes its direct memory one of three ways, each checked here:
 * <ul>
 *   <li>JDK defaults plus {@code --enable-native-access=ALL-UNNAMED} (which the pools need) and Netty on the class
 *       path: Netty's module has native access, so it uses {@code CleanerJava24Linker}: downcall handles to
 *       {@code malloc}/{@code free}, the addresses found with {@code dlsym(RTLD_DEFAULT, ...)}.</li>
 *   <li>Netty as named modules without native access: {@code CleanerJava25}, {@code Arena.ofShared().allocate(n)},
 *       freed by closing the arena.</li>
 *   <li>{@code --sun-misc-unsafe-memory-access=allow}: Netty uses {@code sun.misc.Unsafe} again, and
 *       {@code CleanerJava9}: {@code ByteBuffer.allocateDirect}, freed by {@code Unsafe.invokeCleaner}.</li>
 * </ul>
 *
 * <p>What counts as Netty's direct memory: the direct chunks Netty's allocator reports through its own JFR events
 * ({@code io.netty.AllocateChunk}, see {@link NettyDefaultEcho}), pooled or one-off, in the same run. Their number and
 * capacities are the denominator. A chunk was served by the pool when its address lies in the pool's mapping (exact,
 * in bytes); the report must agree: its allocations at Netty's allocation site and the route's bytes (pool block
 * sizes, so never below what was asked) reach the same share.
 */
@org.junit.jupiter.api.Tag("integration")
class Netty42EchoIT {
    /** The share of Netty's direct chunks (count and bytes) that must be pool memory. */
    static final double SERVED = 0.95;
    static final String[] WORKLOAD = {String.valueOf(16 << 20), "42", "2", String.valueOf(6 << 20)};

    static Forked.Run netty42(String name, String include, NettyJars jars) {
        return Forked.prepare(name)
                .pool("netty", "volatile", "256m")
                .route("netty", "netty", include)
                .netty(jars);
    }

    static Forked.Result exec(Forked.Run run) {
        String[] args = Arrays.copyOf(WORKLOAD, WORKLOAD.length + 1);
        args[WORKLOAD.length] = run.poolDir.toString();
        return run.exec(NettyDefaultEcho.class, args);
    }

    /** The program's {@code NETTY DIRECT} line, after checking the echo and which Netty and cleaner ran. */
    static String account(Forked.Result r, String cleaner) {
        r.assertOk("ECHO OK ");
        String line = r.assertOk("NETTY DIRECT ");
        String version = System.getProperty("jvmem.it.netty42.version");
        assertTrue(line.contains(" version=" + version + " "), "expected Netty " + version + ": " + line + r.describe());
        assertTrue(line.contains(" cleaner=" + cleaner + " "), "expected Netty to allocate with " + cleaner + ": " + line
                + r.describe());
        assertTrue(r.okValue(line, "chunks") > 100, "Netty reported few direct chunks: " + line + r.describe());
        assertEquals(0, r.okValue(line, "noAddress"), "chunk events without an address: " + line + r.describe());
        return line;
    }

    /**
     * At least {@link #SERVED} of Netty's direct chunks, by count and by bytes, were pool memory, and the report
     * shows them at {@code site} ({@code Class.method(} prefix) with {@code call}; freed chunks went back to the pool.
     */
    static void assertServedByPool(Forked.Result r, String line, String call, String site) {
        long chunks = r.okValue(line, "chunks");
        long chunkBytes = r.okValue(line, "chunkBytes");
        long poolChunkBytes = r.okValue(line, "poolChunkBytes");
        Report rep = r.report();
        assertTrue(poolChunkBytes >= SERVED * chunkBytes, String.format(
                "only %.1f%% of Netty's direct chunk bytes (%d of %d) lie in the pool: %s%n%s",
                100.0 * poolChunkBytes / chunkBytes, poolChunkBytes, chunkBytes, line, rep.dump));

        Map<String, Object> route = rep.route("netty");
        List<Map<String, Object>> atSite = rep.sites().stream()
                .filter(s -> "netty".equals(s.get("route")) && call.equals(s.get("call"))
                        && rep.string(s, "site").startsWith(site))
                .toList();
        long routed = atSite.stream().mapToLong(s -> rep.number(s, "allocations")).sum();
        assertTrue(routed >= SERVED * chunks, "the report shows " + routed + " " + call + " allocations at " + site
                + " for Netty's " + chunks + " direct chunks: " + line + "\n" + rep.dump);
        assertTrue(rep.number(route, "bytes") >= SERVED * chunkBytes, "route netty served " + rep.number(route, "bytes")
                + " bytes for Netty's " + chunkBytes + " bytes of direct chunks: " + line + "\n" + rep.dump);
        assertEquals(List.of(), route.get("unrouted"), "the agent reported ways Netty allocates that it did not route:\n"
                + rep.dump);
        long freed = r.okValue(line, "freedChunks");
        assertTrue(rep.number(rep.pool("netty"), "frees") >= SERVED * freed, "Netty freed " + freed
                + " direct chunks, but the pool saw fewer frees: " + line + "\n" + rep.dump);
        rep.assertNoReleaseErrors();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void defaultFlagsPutNettysMallocDowncallsInThePool() {
        Forked.Result r = exec(netty42("netty42-default", "io.netty", NettyJars.CLASS_PATH_42).defaultUnsafeMemoryAccess());
        String line = account(r, "CleanerJava24Linker");
        assertTrue(line.contains(" unsafe=false "), "Netty 4.2 on JDK 25 should not use sun.misc.Unsafe by default: " + line);
        assertServedByPool(r, line, "downcall", "io.netty.util.internal.CleanerJava24Linker$Holder.");
        r.assertClean();
    }

    /**
     * OpenTelemetry's javaagent started first, as many deployments have it: its ByteBuddy transformer instruments
     * Netty, and some 2,500 classes of its own are loaded when jvmem starts (jvmem retransforms the 50 or so whose
     * class files mention an intercepted member or cannot be read, in batches; one retransformation per class of all
     * 2,500 made this run take 85-155 s instead of 10). The JDK's four lines on ByteBuddy's use of
     * {@code sun.misc.Unsafe} are the only warnings.
     */
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void afterOpenTelemetrysJavaagentNettysMallocDowncallsAreStillInThePool() {
        String otel = System.getProperty("jvmem.it.otel.agent");
        assertTrue(otel != null && java.nio.file.Files.isRegularFile(java.nio.file.Path.of(otel)),
                "OpenTelemetry's javaagent (copied by maven-dependency-plugin, execution otel-javaagent): " + otel);
        Forked.Result r = exec(netty42("netty42-otel", "io.netty", NettyJars.CLASS_PATH_42).defaultUnsafeMemoryAccess()
                .first("-javaagent:" + otel, "-Dotel.traces.exporter=none", "-Dotel.metrics.exporter=none",
                        "-Dotel.logs.exporter=none")
                .jvm("-Dslf4j.internal.verbosity=ERROR"));
        assertTrue(r.stderr().contains("opentelemetry-javaagent - version: "), "OpenTelemetry's agent ran" + r.describe());
        String line = account(r, "CleanerJava24Linker");
        assertServedByPool(r, line, "downcall", "io.netty.util.internal.CleanerJava24Linker$Holder.");
        assertEquals(OtherAgentsIT.otelUnsafeWarnings(), r.warningLines(), "the JDK's four lines on ByteBuddy's "
                + "sun.misc.Unsafe, and no jvmem line" + r.describe());
        r.report().assertNoRewriteFailures();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void nettyAsNamedModulesPutsItsSharedArenasInThePool() {
        Forked.Result r = exec(netty42("netty42-modules", "io.netty", NettyJars.MODULE_PATH_42)
                .defaultUnsafeMemoryAccess()
                .jvm("--add-opens", "io.netty.common/io.netty.util.internal=ALL-UNNAMED")); // the program reads the cleaner's name
        String line = account(r, "CleanerJava25");
        assertServedByPool(r, line, "arena", "io.netty.util.internal.CleanerJava25$Arenas.allocate(");
        r.assertClean();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void unsafeAllowedPutsNettysAllocateDirectInThePool() {
        // Forked's default flags include --sun-misc-unsafe-memory-access=allow.
        Forked.Result r = exec(netty42("netty42-unsafe", "io.netty", NettyJars.CLASS_PATH_42));
        String line = account(r, "CleanerJava9");
        assertTrue(line.contains(" unsafe=true "), "Netty should use sun.misc.Unsafe when it is allowed: " + line);
        assertServedByPool(r, line, "allocateDirect", "io.netty.util.internal.CleanerJava9.allocate(");
        r.assertClean();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void nothingRoutedWhenNettyIsNotIncluded() {
        Forked.Result r = exec(netty42("netty42-unrouted", "some.other.pkg", NettyJars.CLASS_PATH_42).defaultUnsafeMemoryAccess());
        String line = account(r, "CleanerJava24Linker");
        assertEquals(0, r.okValue(line, "poolChunkBytes"), "a Netty chunk lies in the pool: " + line + r.describe());
        r.report().assertNothingRouted("netty");
        r.assertClean();
    }
}
