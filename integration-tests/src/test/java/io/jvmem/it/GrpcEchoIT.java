package io.jvmem.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * gRPC-java 1.85 over grpc-netty-shaded ({@link GrpcEcho}: unary and bidi-streaming calls of 1 KiB..1 MiB, every byte
 * checked on both sides) in a forked JVM under the agent, with the shaded Netty's package routed to a pool.
 *
 * <p>grpc-netty-shaded carries Netty 4.2.17 under {@code io.grpc.netty.shaded.io.netty}, and gRPC gives it a
 * {@code PooledByteBufAllocator} of its own (direct, 2 MiB chunks). On JDK 25 that Netty takes its direct memory one
 * of two ways here, each a test:
 * <ul>
 *   <li>JDK defaults (plus {@code --enable-native-access=ALL-UNNAMED}, which the pools need): no
 *       {@code sun.misc.Unsafe}, {@code CleanerJava24Linker}: {@code malloc}/{@code free} through downcall handles.
 *       The chunks' addresses are in Netty's JFR events, so the program tells which lie in the pool's mapping.</li>
 *   <li>{@code --sun-misc-unsafe-memory-access=allow}: Netty uses Unsafe, and {@code CleanerJava9}:
 *       {@code ByteBuffer.allocateDirect}, freed by {@code Unsafe.invokeCleaner}. Netty 4.2.17's events then carry no
 *       address (its {@code CleanerJava9} buffers report none), so the evidence is the report's allocations at
 *       {@code CleanerJava9.allocate} and the JDK's own {@code direct} buffer pool, which never held a chunk.</li>
 * </ul>
 * A third way needs flags gRPC users set for speed ({@code --add-opens java.base/java.nio=ALL-UNNAMED} and
 * {@code -Dio.grpc.netty.shaded.io.netty.tryReflectionSetAccessible=true} with Unsafe allowed): {@code DirectCleaner},
 * {@code Unsafe.allocateMemory} wrapped in a {@code DirectByteBuffer} without cleaner, freed by
 * {@code Unsafe.freeMemory}.
 *
 * <p>What counts as Netty's direct memory: the direct chunks its allocator reports through its JFR chunk events in the
 * same run (their number and capacities). Measured: 100% of them, by count and by bytes (11 to 16 chunks of 2 MiB,
 * 23 to 34 MB, varying with the timing of the two bidi streams), came from the pool in both modes; the route's other
 * allocations are Netty's small non-chunk buffers (about 180 KB, the epoll transport's among them). Over TLS
 * (BoringSSL from the shaded netty-tcnative, through JNI) the same holds: 100% of about 19 chunks, 27 MB.
 */
@org.junit.jupiter.api.Tag("integration")
class GrpcEchoIT {
    static final String NETTY = "io.grpc.netty.shaded.io.netty";
    static final String INTERNAL = NETTY + ".util.internal.";
    /** The share of Netty's direct chunk bytes that must be pool memory (measured: all of them). */
    static final double SERVED = 0.95;
    // Some library on the programs' class path brings SLF4J without a provider: silence its three-line notice.
    static final String QUIET_SLF4J = "-Dslf4j.internal.verbosity=ERROR";

    static Forked.Run grpc(String name, String include) {
        return Forked.prepare(name)
                .pool("grpc", "volatile", "256m")
                .route("grpc", "grpc", include)
                .jvm(QUIET_SLF4J);
    }

    static Forked.Result exec(Forked.Run run, String... more) {
        String[] args = new String[3 + more.length];
        args[0] = "4";
        args[1] = "42";
        args[2] = run.poolDir.toString();
        System.arraycopy(more, 0, args, 3, more.length);
        return run.exec(GrpcEcho.class, args);
    }

    /** Every call echoed and checked on both sides; returns the program's {@code NETTY DIRECT} line. */
    static String account(Forked.Result r, String cleaner) {
        String ok = r.assertOk("GRPC OK ");
        assertEquals(24, r.okValue(ok, "unary"), ok);
        assertEquals(48, r.okValue(ok, "bidi"), ok);
        assertTrue(r.okValue(ok, "bytes") > 30L << 20, "less traffic than the workload: " + ok);
        assertEquals(r.okValue(ok, "bytes"), r.okValue(ok, "checked"), ok);
        String line = r.assertOk("NETTY DIRECT ");
        assertTrue(line.contains(" version=4.2.17.Final "), "grpc-netty-shaded 1.85.1 shades Netty 4.2.17: " + line);
        assertTrue(line.contains(" cleaner=" + cleaner + " "), "expected the shaded Netty to allocate with " + cleaner
                + ": " + line + r.describe());
        assertTrue(r.okValue(line, "chunks") >= 8, "Netty reported few direct chunks: " + line + r.describe());
        return line;
    }

    /**
     * The report shows the shaded Netty's chunks as {@code call} allocations at {@code site}, at least as many and as
     * large as Netty's chunk events; the pool got its frees back; nothing was unrouted.
     */
    static void assertReportServedNetty(Forked.Result r, String line, String call, String site) {
        long chunks = r.okValue(line, "chunks");
        long chunkBytes = r.okValue(line, "chunkBytes");
        Report rep = r.report();
        List<Map<String, Object>> atSite = rep.sites().stream()
                .filter(s -> "grpc".equals(s.get("route")) && call.equals(s.get("call"))
                        && rep.string(s, "site").startsWith(INTERNAL + site + "("))
                .toList();
        long allocations = atSite.stream().mapToLong(s -> rep.number(s, "allocations")).sum();
        long bytes = atSite.stream().mapToLong(s -> rep.number(s, "bytes")).sum();
        assertTrue(allocations >= chunks, "the report shows " + allocations + " " + call + " allocations at " + site
                + " for Netty's " + chunks + " direct chunks: " + line + "\n" + rep.dump);
        assertTrue(bytes >= chunkBytes, "the report shows " + bytes + " bytes at " + site + " for Netty's " + chunkBytes
                + " bytes of direct chunks: " + line + "\n" + rep.dump);
        Map<String, Object> route = rep.route("grpc");
        assertEquals(0, rep.number(route, "fallbacks"), "a 256 MiB pool should serve everything:\n" + rep.dump);
        assertEquals(List.of(), route.get("unrouted"), "the agent reported ways the shaded Netty allocates that it "
                + "did not route:\n" + rep.dump);
        assertTrue(rep.sites().stream().filter(s -> "grpc".equals(s.get("route")) && rep.number(s, "allocations") > 0)
                .allMatch(s -> rep.string(s, "site").startsWith(NETTY + ".")), rep.dump);
        long freed = r.okValue(line, "freedChunks");
        assertTrue(rep.number(rep.pool("grpc"), "frees") >= freed, "Netty freed " + freed
                + " direct chunks, but the pool saw fewer frees: " + line + "\n" + rep.dump);
        rep.assertNoReleaseErrors();
        r.assertClean();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void defaultFlagsPutTheShadedNettysMallocDowncallsInThePool() {
        Forked.Result r = exec(grpc("grpc-default", NETTY).defaultUnsafeMemoryAccess());
        String line = account(r, "CleanerJava24Linker");
        assertTrue(line.contains(" unsafe=false "), "Netty 4.2 on JDK 25 should not use sun.misc.Unsafe by default: "
                + line);
        assertEquals(0, r.okValue(line, "noAddress"), "chunk events without an address: " + line + r.describe());
        long chunkBytes = r.okValue(line, "chunkBytes");
        long poolChunkBytes = r.okValue(line, "poolChunkBytes");
        assertTrue(poolChunkBytes >= SERVED * chunkBytes, String.format(
                "only %.1f%% of Netty's direct chunk bytes (%d of %d) lie in the pool: %s%s",
                100.0 * poolChunkBytes / chunkBytes, poolChunkBytes, chunkBytes, line, r.describe()));
        assertTrue(r.okValue(line, "poolChunks") >= SERVED * r.okValue(line, "chunks"), line + r.describe());
        // malloc through the downcall handle CleanerJava24Linker makes in its static initializer
        assertReportServedNetty(r, line, "downcall", "CleanerJava24Linker.<clinit>");
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void tlsThroughTheShadedBoringSslEncryptsFromAndDecryptsIntoPoolChunks() {
        // The shaded netty-tcnative's BoringSSL (JNI) reads and writes Netty's direct buffers by their addresses.
        Forked.Result r = exec(grpc("grpc-tls", NETTY).defaultUnsafeMemoryAccess(), "tls");
        String line = account(r, "CleanerJava24Linker");
        String ok = r.assertOk("GRPC OK ");
        assertTrue(ok.endsWith(" tls=OPENSSL"), "the shaded netty-tcnative did not load: " + ok + r.describe());
        long chunkBytes = r.okValue(line, "chunkBytes");
        assertTrue(r.okValue(line, "poolChunkBytes") >= SERVED * chunkBytes, line + r.describe());
        assertReportServedNetty(r, line, "downcall", "CleanerJava24Linker.<clinit>");
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void unsafeAllowedPutsTheShadedNettysAllocateDirectInThePool() {
        // Forked's default flags include --sun-misc-unsafe-memory-access=allow.
        Forked.Result r = exec(grpc("grpc-unsafe", NETTY));
        String line = account(r, "CleanerJava9");
        assertTrue(line.contains(" unsafe=true "), "Netty should use sun.misc.Unsafe when it is allowed: " + line);
        assertReportServedNetty(r, line, "allocateDirect", "CleanerJava9.allocate");
        // Not one 2 MiB chunk was the JDK's direct memory: all the JDK's direct buffers together stayed below one
        // chunk (measured: 256 KiB, the allocator's zero buffer; 23 MB with the package left out of the route).
        long jdkPeak = r.okValue(r.assertOk("GRPC OK "), "jdkDirectPeak");
        assertTrue(jdkPeak < r.okValue(line, "largestChunk"), "the JDK's direct buffers reached " + jdkPeak
                + " bytes during the echo: a chunk of Netty's was not pool memory: " + line + r.describe());
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void unsafeAndReflectionAllowedPutTheShadedNettysNoCleanerMemoryInThePool() {
        // What gRPC users set for speed: Netty may then call DirectByteBuffer's private constructor, and allocates
        // with Unsafe.allocateMemory (DirectCleaner, freed with Unsafe.freeMemory), which the JDK's direct buffer pool
        // never counts: the report is the evidence here.
        Forked.Result r = exec(grpc("grpc-no-cleaner", NETTY).jvm("--add-opens", "java.base/java.nio=ALL-UNNAMED",
                "-D" + NETTY + ".tryReflectionSetAccessible=true"));
        String line = account(r, "DirectCleaner");
        assertReportServedNetty(r, line, "allocateMemory", "PlatformDependent0.allocateDirectNoCleaner");
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void withTheShadedNettyLeftOutNothingIsRouted() {
        // gRPC's own classes are selected, the Netty inside the jar is not: gRPC itself allocates no off-heap memory.
        Forked.Result r = exec(grpc("grpc-netty-excluded", "io.grpc").set("route.grpc.exclude", NETTY)
                .defaultUnsafeMemoryAccess());
        String line = account(r, "CleanerJava24Linker");
        assertEquals(0, r.okValue(line, "poolChunkBytes"), "a Netty chunk lies in the pool: " + line + r.describe());
        Report rep = r.report();
        rep.assertNothingRouted("grpc");
        assertEquals(0, rep.number(rep.pool("grpc"), "frees"), "Netty's frees of libc memory must not reach the pool:\n"
                + rep.dump);
        assertEquals(List.of(), rep.route("grpc").get("unrouted"), rep.dump);
        r.assertClean();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void unsafeAllowedWithTheShadedNettyLeftOutLeavesItsChunksToTheJdk() {
        Forked.Result r = exec(grpc("grpc-unsafe-unrouted", "some.other.pkg"));
        String line = account(r, "CleanerJava9");
        long jdkPeak = r.okValue(r.assertOk("GRPC OK "), "jdkDirectPeak");
        // the counterpart of the routed run's bound: here Netty's chunks are the JDK's direct memory
        assertTrue(jdkPeak >= r.okValue(line, "largestChunk"), "the JDK's direct memory never held a chunk: " + line
                + r.describe());
        r.report().assertNothingRouted("grpc");
        r.assertClean();
    }
}
