package io.jvmem.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Apache Lucene 10 ({@link LuceneIndex}: an index in an {@code MMapDirectory} and in a {@code ByteBuffersDirectory}
 * with direct blocks, searched and checked exactly) in forked JVMs under the agent.
 *
 * <p>What Lucene 10.3 (lucene-core) does off-heap on JDK 25, read from its class files: it maps index files with
 * {@code FileChannel.map(mode, offset, length, arena)} into {@code Arena.ofShared()}/{@code Arena.ofConfined()}
 * arenas (shared ones wrapped in its own {@code RefCountedSharedArena implements Arena}, whose {@code allocate}
 * throws), and looks up {@code posix_madvise} and {@code getpagesize} with {@code Linker.downcallHandle}
 * ({@code PosixNativeAccess}). It calls no {@code Arena}/{@code SegmentAllocator} allocation method, no
 * {@code ByteBuffer.allocateDirect} and no {@code Unsafe}: nothing Lucene does is an allocation the agent routes,
 * so a route including {@code org.apache.lucene} serves nothing. The agent rewrites two Lucene classes:
 * {@code PosixNativeAccess} (its downcall handles pass through the bridge, which hands back any handle whose function
 * is not libc's allocator unchanged) and {@code HotspotVMOptions} ({@code Method.invoke}).
 *
 * <p>Flags: {@code --enable-native-access=ALL-UNNAMED} as Lucene documents (without it JDK 25 warns about
 * {@code Linker.downcallHandle}; {@link Forked} always passes it, the pools need it too);
 * {@code --sun-misc-unsafe-memory-access} is left at the JDK's default, as Lucene does not use Unsafe. Without
 * {@code --add-modules jdk.incubator.vector} Lucene logs one WARNING that the Vector API is not readable and uses its
 * scalar code; with it the JDK warns about the incubator module and Lucene uses its Panama vector code
 * ({@code PanamaVectorizationProvider}, {@code MemorySegmentPostingDecodingUtil} over the mapped segments).
 */
@org.junit.jupiter.api.Tag("integration")
class LuceneIndexIT {
    /** Lucene's own line on stderr when the Vector API module is not there (the JDK's default). */
    static final String NO_VECTOR_MODULE = "WARNING: Java vector incubator module is not readable. For optimal vector "
            + "performance, pass '--add-modules jdk.incubator.vector' to enable Vector API.";
    static final String VECTOR_FLAG = "--add-modules=jdk.incubator.vector";
    /** The program's data (5000 documents, seed 11): live documents after deleting tag t3 (1/7 of them). */
    static final long LIVE = 4286;

    static Forked.Run routed(String name, String include) {
        return Forked.prepare(name)
                .pool("lucene", "volatile", "64m")
                .route("lucene", "lucene", include)
                .defaultUnsafeMemoryAccess();
    }

    /** The OK line, with the program's exact results and every index file mapping advised RANDOM by madvise. */
    static String assertSearchedExactly(Forked.Result r) {
        String ok = r.assertOk("LUCENE OK ");
        assertEquals(LIVE, r.okValue(ok, "live"), ok + r.describe());
        assertTrue(ok.contains(" input=org.apache.lucene.store.MemorySegmentIndexInput"),
                "MMapDirectory did not read through its MemorySegment inputs: " + ok + r.describe());
        assertTrue(ok.contains(" supportsMadvise=true"), ok + r.describe());
        long mapped = r.okValue(ok, "mappedFiles");
        assertTrue(mapped > 0, "no mapping of an index file in /proc/self/smaps: " + ok + r.describe());
        assertEquals(mapped, r.okValue(ok, "advisedRandom"),
                "an index file mapping lacks the kernel's rr flag: posix_madvise did not run on it: " + ok + r.describe());
        return ok;
    }

    /** Route lucene and its pool served nothing and saw nothing; the agent reported no shape it left unrouted. */
    static void assertNothingAllocated(Forked.Result r) {
        Report rep = r.report();
        Map<String, Object> route = rep.route("lucene");
        for (String field : List.of("allocations", "bytes", "fallbacks", "failures", "belowMinSize")) {
            assertEquals(0, rep.number(route, field), "route lucene's " + field + ":\n" + rep.dump);
        }
        assertEquals(List.of(), route.get("unrouted"), "the agent reported Lucene shapes it did not route:\n" + rep.dump);
        Map<String, Object> pool = rep.pool("lucene");
        assertEquals(0, rep.number(pool, "allocations"), rep.dump);
        assertEquals(0, rep.number(pool, "frees"), "a JDK address reached the pool's free:\n" + rep.dump);
        assertTrue(rep.sites().stream().noneMatch(s -> "lucene".equals(s.get("route"))),
                "a site on route lucene (Lucene calls no routed member):\n" + rep.dump);
        rep.assertNoRewriteFailures();
        rep.assertNoReleaseErrors();
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void luceneUnderARouteIncludingItSearchesExactlyAndTakesNothingFromThePool() {
        Forked.Result r = routed("lucene-routed", "org.apache.lucene").exec(LuceneIndex.class);
        assertSearchedExactly(r);
        assertNothingAllocated(r);
        assertEquals(List.of(NO_VECTOR_MODULE), r.warningLines(),
                "only Lucene's own Vector API notice, no agent line" + r.describe());
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void lucenesMadviseDowncallIsRewrittenAndStillAdvisesEveryMapping() {
        // log=debug names each class the agent rewrote; the program's smaps check proves madvise ran on every mapping.
        Forked.Result r = routed("lucene-rewritten", "org.apache.lucene").set("log", "debug").exec(LuceneIndex.class);
        assertSearchedExactly(r);
        List<String> rewritten = r.stderr().lines().filter(l -> l.startsWith("jvmem: rewrote org.apache.lucene.")).sorted()
                .toList();
        assertEquals(List.of("jvmem: rewrote org.apache.lucene.store.PosixNativeAccess (route lucene)",
                        "jvmem: rewrote org.apache.lucene.util.HotspotVMOptions (route lucene)"), rewritten,
                "the Lucene classes that call an intercepted member (downcallHandle, Method.invoke)" + r.describe());
        List<String> otherAgentLines = r.warningLines().stream()
                .filter(l -> !l.equals(NO_VECTOR_MODULE) && !l.startsWith("jvmem: rewrote ") && !l.startsWith("jvmem: started: "))
                .toList();
        assertEquals(List.of(), otherAgentLines, r.describe());
        r.report().assertNoRewriteFailures();
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void withLucenesPackageLeftOutTheSameProgramPasses() {
        Forked.Result r = routed("lucene-unrouted", "some.other.pkg").exec(LuceneIndex.class);
        assertSearchedExactly(r);
        Report rep = r.report();
        rep.assertNothingRouted("lucene");
        assertEquals(0, rep.number(rep.pool("lucene"), "frees"), "a JDK address reached the pool's free:\n" + rep.dump);
        rep.assertNoRewriteFailures();
        assertEquals(List.of(NO_VECTOR_MODULE), r.warningLines(), r.describe());
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void withTheVectorModuleLucenesPanamaVectorCodeRunsUnderTheRoute() {
        Forked.Result r = routed("lucene-vector", "org.apache.lucene").jvm(VECTOR_FLAG).exec(LuceneIndex.class);
        assertSearchedExactly(r);
        assertTrue(r.stderr().lines().anyMatch(l -> l.startsWith("INFO: Java vector incubator API enabled")),
                "Lucene did not switch to its Vector API code" + r.describe());
        assertNothingAllocated(r);
        assertEquals(List.of("WARNING: Using incubator modules: jdk.incubator.vector"), r.warningLines(),
                "only the JDK's incubator notice, no agent line" + r.describe());
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void directBlocksTheProgramGivesLucenesByteBuffersDirectoryComeFromThePool() {
        // The program's block allocator (a lambda in io.jvmem.it.LuceneIndex) is routed; Lucene writes its files into
        // those pool buffers and searches them.
        Forked.Result r = routed("lucene-direct-blocks", "io.jvmem.it").exec(LuceneIndex.class);
        String ok = assertSearchedExactly(r);
        long blocks = r.okValue(ok, "directBlocks");
        assertTrue(blocks > 0, ok + r.describe());
        Report rep = r.report();
        Map<String, Object> route = rep.route("lucene");
        assertEquals(blocks, rep.number(route, "allocations"), "every block Lucene asked for came from the pool:\n" + rep.dump);
        assertEquals(0, rep.number(route, "fallbacks"), rep.dump);
        assertTrue(rep.number(route, "bytes") >= r.okValue(ok, "directBytes"), rep.dump);
        List<Map<String, Object>> sites = rep.sites().stream().filter(s -> "lucene".equals(s.get("route"))).toList();
        assertEquals(1, sites.size(), "one routed site, the program's block allocator:\n" + rep.dump);
        assertTrue(rep.string(sites.get(0), "site").startsWith("io.jvmem.it.LuceneIndex.lambda$run$"), rep.dump);
        rep.assertField(sites.get(0), "call", "allocateDirect");
        assertEquals(blocks, rep.number(sites.get(0), "allocations"), rep.dump);
        rep.assertNoRewriteFailures();
        rep.assertNoReleaseErrors();
        assertEquals(List.of(NO_VECTOR_MODULE), r.warningLines(), r.describe());
    }
}
