package io.jvmem.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * zstd-jni and lz4-java, whose native code reads and writes direct ByteBuffers by address, compressing and
 * decompressing a few MiB ({@link CompressionDirectBuffers}) in a forked JVM under the agent, with the JDK's defaults
 * plus {@code --enable-native-access=ALL-UNNAMED} (which the pools need).
 *
 * <p>On JDK 22+ zstd-jni runs its {@code META-INF/versions/22} classes, which reach libzstd through FFM critical
 * downcalls on {@code MemorySegment.ofBuffer} views; lz4-java uses JNI ({@code GetDirectBufferAddress}). A pool
 * buffer is a real {@code DirectByteBuffer} over pool memory, so both see its address. Both libraries extract their
 * native library to {@code java.io.tmpdir}, here a directory of the run.
 */
@org.junit.jupiter.api.Tag("integration")
class CompressionDirectBuffersIT {
    static final String PROGRAM = CompressionDirectBuffers.class.getName();
    static final String ZSTD = "com.github.luben.zstd";
    /** Where the program allocates every direct buffer of its own. */
    static final String PROGRAM_SITE = PROGRAM + ".direct";

    static Forked.Result run(String name, String include, String poolSize, String... config) {
        return run(name, include, poolSize, List.of(), config);
    }

    static Forked.Result run(String name, String include, String poolSize, List<String> jvmArgs, String... config) {
        Forked.Run run = Forked.prepare(name)
                .pool("codec", "volatile", poolSize)
                .route("codec", "codec", include)
                .defaultUnsafeMemoryAccess();
        for (int i = 0; i < config.length; i += 2) {
            run.set(config[i], config[i + 1]);
        }
        Path tmp = run.dir.resolve("tmp");
        try {
            Files.createDirectories(tmp);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return run.jvm("-Djava.io.tmpdir=" + tmp).jvm(jvmArgs.toArray(String[]::new)).exec(CompressionDirectBuffers.class);
    }

    /** Every byte that went through a codec was compared with the original. */
    static String assertAllChecked(Forked.Result r) {
        String ok = r.assertOk("COMPRESS OK ");
        assertEquals(4 << 20, r.okValue(ok, "bytes"), ok);
        assertTrue(r.okValue(ok, "checked") > 6 * r.okValue(ok, "bytes"), "fewer bytes compared than expected: " + ok);
        return ok;
    }

    static long calls(Report rep, String call) {
        return rep.sites().stream().filter(s -> "codec".equals(s.get("route")) && call.equals(s.get("call")))
                .mapToLong(s -> rep.number(s, "allocations")).sum();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void zstdDirectBuffersAllocatedByTheLibraryComeFromThePool() {
        Forked.Result r = run("zstd-library", ZSTD, "256m");
        String ok = assertAllChecked(r);
        assertTrue(ok.contains(" zstd=ffm "), "zstd-jni's JDK 22+ classes did not run: " + ok);
        Report rep = r.report();
        Map<String, Object> route = rep.route("codec");
        // ZstdCompressCtx.compress(ByteBuffer), ZstdDecompressCtx.decompress(ByteBuffer, int), ZstdDictTrainer:
        // exactly the buffers zstd-jni handed the program.
        assertEquals(r.okValue(ok, "libraryBuffers"), calls(rep, "allocateDirect"),
                "zstd-jni's allocateDirect calls did not all come from the pool:\n" + rep.dump);
        assertTrue(rep.siteAllocations("codec", ZSTD + ".ZstdCompressCtx.compress") > 0, rep.dump);
        assertTrue(rep.siteAllocations("codec", ZSTD + ".ZstdDecompressCtx.decompress") > 0, rep.dump);
        // Its arenas: the training buffers in a confined arena (back in the pool when it closes) and the frame
        // progression struct in an automatic one.
        assertEquals(1, rep.siteAllocations("codec", ZSTD + ".ZstdBinding.allocateTrainingBuffer"), rep.dump);
        assertEquals(1, rep.siteAllocations("codec", ZSTD + ".ZstdBinding$FrameProgressionBuffer.<init>"), rep.dump);
        assertEquals(calls(rep, "allocateDirect") + calls(rep, "arena"), rep.number(route, "allocations"), rep.dump);
        assertTrue(rep.sites().stream().filter(s -> "codec".equals(s.get("route")))
                .allMatch(s -> rep.string(s, "site").startsWith(ZSTD + ".")), rep.dump);
        assertEquals(0, rep.number(route, "fallbacks"), "a 256 MiB pool should serve everything:\n" + rep.dump);
        assertEquals(rep.number(route, "allocations"), rep.number(rep.pool("codec"), "allocations"), rep.dump);
        rep.assertNoReleaseErrors();
        r.assertClean();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void buffersThatTheProgramAllocatesAndNativeCodeReadsComeFromThePool() {
        Forked.Result r = run("compress-program", PROGRAM, "256m");
        String ok = assertAllChecked(r);
        Report rep = r.report();
        Map<String, Object> route = rep.route("codec");
        long programBuffers = r.okValue(ok, "programBuffers");
        assertTrue(programBuffers > 100, ok);
        assertEquals(programBuffers, rep.siteAllocations("codec", PROGRAM_SITE),
                "the program's direct buffers, handed to zstd's downcalls and lz4's JNI, were not all pool buffers:\n"
                        + rep.dump);
        assertEquals(programBuffers, rep.number(route, "allocations"), "zstd-jni's own buffers are not routed here:\n"
                + rep.dump);
        assertEquals(0, rep.number(route, "fallbacks"), rep.dump);
        rep.assertNoReleaseErrors();
        r.assertClean();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void zstdsJniBindingReadsAndWritesPoolBuffersByTheirAddress() {
        // Without multi-release jars zstd-jni runs its JNI classes (GetDirectBufferAddress, as lz4-java always does).
        Forked.Result r = run("zstd-jni", PROGRAM + "," + ZSTD, "256m", List.of("-Djdk.util.jar.enableMultiRelease=false"));
        String ok = assertAllChecked(r);
        assertTrue(ok.contains(" zstd=jni "), "zstd-jni's FFM classes ran: " + ok);
        Report rep = r.report();
        Map<String, Object> route = rep.route("codec");
        long programSite = rep.siteAllocations("codec", PROGRAM_SITE);
        assertEquals(r.okValue(ok, "programBuffers"), programSite, rep.dump);
        assertEquals(r.okValue(ok, "libraryBuffers"), calls(rep, "allocateDirect") - programSite, rep.dump);
        assertEquals(0, calls(rep, "arena"), "the JNI binding allocates in no arena:\n" + rep.dump);
        assertEquals(0, rep.number(route, "fallbacks"), rep.dump);
        rep.assertNoReleaseErrors();
        r.assertClean();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void withThePackagesLeftOutNothingIsRouted() {
        Forked.Result r = run("compress-unrouted", "some.other.pkg", "256m");
        assertAllChecked(r);
        Report rep = r.report();
        rep.assertNothingRouted("codec");
        assertEquals(0, rep.number(rep.pool("codec"), "frees"),
                "JDK buffers released by the libraries must not reach the pool's free:\n" + rep.dump);
        r.assertClean();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aPoolSmallerThanWhatTheCodecsAllocateIsReusedAsTheirBuffersAreCollected() {
        // 16 MiB for about 60 MiB of buffers, most of them dropped by the program: blocks come back when the garbage
        // collector runs their cleaners, while native code may have read them moments before.
        Forked.Result r = run("compress-small-pool", PROGRAM + "," + ZSTD, "16m");
        String ok = assertAllChecked(r);
        Report rep = r.report();
        Map<String, Object> route = rep.route("codec");
        Map<String, Object> pool = rep.pool("codec");
        assertTrue(rep.number(route, "bytes") - rep.number(route, "fallbackBytes") > rep.number(pool, "size"),
                "the pool served less than its size, so no block was reused:\n" + rep.dump);
        assertTrue(rep.number(pool, "frees") > 0, rep.dump);
        assertEquals(r.okValue(ok, "programBuffers") + r.okValue(ok, "libraryBuffers"), calls(rep, "allocateDirect"),
                rep.dump);
        rep.assertNoReleaseErrors();
        r.assertClean();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void theCodecsNativeAllocationsAreOutOfTheAgentsSightAndNotReportedAsUnrouted() {
        // zstd's contexts (ZSTD_createCCtx behind an FFM downcall) and lz4's stream states (LZ4_createStream behind
        // JNI) are malloc'd in C: the agent sees only Java call sites, so these are neither routed nor listed. The
        // libraries' Java code reaches off-heap memory in no way the agent skips, so nothing is "not routed" either.
        Forked.Result r = run("compress-log-warn", PROGRAM + "," + ZSTD + ",net.jpountz", "256m", "log", "warn");
        assertAllChecked(r);
        Report rep = r.report();
        assertEquals(List.of(), rep.route("codec").get("unrouted"), rep.dump);
        assertTrue(rep.sites().stream().noneMatch(s -> rep.string(s, "site").startsWith("net.jpountz.")),
                "lz4-java allocates no off-heap memory from Java:\n" + rep.dump);
        r.assertClean();     // no "jvmem: not routed" line at log=warn
    }
}
