package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's reach in JVMs of their own: the crash of the issue (a pool address freed through a handle in an
 * unselected class) does not happen, and the shapes a selected class uses that the agent cannot route are reported
 * in the JSON report and, once each, on stderr.
 */
@org.junit.jupiter.api.Tag("integration")
class ReachProcessIT {
    private static final Path JAR = Path.of("target/jvmem-agent.jar").toAbsolutePath();

    @TempDir
    Path dir;

    private record Result(int exit, String out, List<String> err, String report) {
    }

    /** Runs {@code main} under the agent with pool p and route r including {@code include}, at log=warn. */
    private Result run(String include, String main, String... args) throws IOException, InterruptedException {
        return runWith(List.of("route.r.include=" + include), main, args);
    }

    /** Runs {@code main} under the agent with pool p, route r as {@code route} says, at log=warn. */
    private Result runWith(List<String> route, String main, String... args) throws IOException, InterruptedException {
        assertTrue(Files.isRegularFile(JAR), "build the agent jar first: " + JAR);
        Path report = dir.resolve("report.json");
        Path config = dir.resolve("jvmem.properties");
        List<String> lines = new ArrayList<>(List.of("pool.p.size=16m", "route.r.pool=p", "report=" + report, "log=warn"));
        lines.addAll(route);
        Files.write(config, lines);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-javaagent:" + JAR + "=" + config,
                "-cp", System.getProperty("java.class.path"), main));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8),
                new String(err, StandardCharsets.UTF_8).lines().toList(),
                Files.exists(report) ? Files.readString(report) : "");
    }

    @Test
    @Timeout(60)
    void aPoolAddressFreedThroughFindVirtualsFreeMemoryInAnUnselectedClassDoesNotCrashTheJvm() throws Exception {
        Result r = run("sample.issue.Allocate", "sample.issue.FreeByHandle");
        assertTrue(r.err().stream().noneMatch(l -> l.contains("free(): invalid pointer")), r.err().toString());
        assertEquals(0, r.exit(), "exit code (134: the JVM aborted in free(3)): " + r);
        assertEquals("in pool: true\nin use after free: 0\n", r.out());
        assertEquals(List.of(), r.err());
    }

    @Test
    @Timeout(60)
    void aPoolAddressFreedThroughAFreeHandleMadeByMethodInvokeInAnUnselectedClassDoesNotCrashTheJvm() throws Exception {
        Result r = run("sample.issue.Allocate", "sample.issue.FreeByReflectedDowncall");
        assertEquals(0, r.exit(), "exit code (134: the JVM aborted in free(3)): " + r);
        assertEquals("in pool: true\nin use after free: 0\n", r.out());
        assertEquals(List.of(), r.err());
    }

    @Test
    @Timeout(60)
    void aDowncallHandleMadeByMethodInvokeInASelectedClassIsReportedAsUnrouted() throws Exception {
        Result r = run("sample.unroutable", "sample.unroutable.ReflectedMalloc");
        assertReportedOnce(r, "ReflectedMalloc", REFLECTED_DOWNCALL);
    }

    private static final String REFLECTED_DOWNCALL = "Method.invoke of java.lang.foreign.Linker.downcallHandle (its handles "
            + "are pool-aware; what they allocate, libc blocks and returned structs, is not routed)";

    /** A method reference to downcallHandle: its handles' returned structs would be the route's arena allocations. */
    @Test
    @Timeout(60)
    void aMethodReferenceToDowncallHandleInAClassWhoseRouteTakesArenasOnlyIsReportedAsUnrouted() throws Exception {
        Result r = runWith(List.of("route.r.include=sample.unroutable", "route.r.calls=arena"),
                "sample.unroutable.DowncallReference");
        assertReportedOnce(r, "DowncallReference", "handle in a bootstrap's arguments to java.lang.foreign.Linker.downcallHandle");
    }

    /** Its handles' returned structs would be the route's arena allocations: so it is reported there too. */
    @Test
    @Timeout(60)
    void aDowncallHandleMadeByMethodInvokeInAClassWhoseRouteTakesArenasOnlyIsReportedAsUnrouted() throws Exception {
        Result r = runWith(List.of("route.r.include=sample.unroutable", "route.r.calls=arena"),
                "sample.unroutable.ReflectedMalloc");
        assertReportedOnce(r, "ReflectedMalloc", REFLECTED_DOWNCALL);
    }

    /** The one stderr line saying how {@code cls} is not routed, and the report's entry for it. */
    private void assertReportedOnce(Result r, String cls, String way) {
        assertEquals(0, r.exit(), r.toString());
        assertEquals("in pool: false\n", r.out(), "the program ran, and its memory is not from the pool");
        String where = "sample.unroutable." + cls + ": " + way + " at sample.unroutable." + cls + ".main(" + cls + ".java:";
        assertEquals(1, r.err().size(), "one line: " + r.err());
        assertTrue(r.err().get(0).startsWith("jvmem: not routed (route r): " + where), r.err().get(0));
        String entry = "\"unrouted\": [{\"where\": \"" + r.err().get(0).substring("jvmem: not routed (route r): ".length())
                + "\", \"seen\": 1}]";
        assertTrue(r.report().contains(entry), "no " + entry + " in " + r.report());
    }

    @Test
    @Timeout(60)
    void aSerializableMethodReferenceToAllocateDirectIsReportedAsUnrouted() throws Exception {
        Result r = run("sample.unroutable", "sample.unroutable.SerializableRef");
        assertReportedOnce(r, "SerializableRef", "serializable method reference to java.nio.ByteBuffer.allocateDirect");
    }

    @Test
    @Timeout(60)
    void anUnboundArenaMethodReferenceIsReportedAsUnrouted() throws Exception {
        Result r = run("sample.unroutable", "sample.unroutable.UnboundArenaRef");
        assertReportedOnce(r, "UnboundArenaRef", "unbound method reference java.lang.foreign.SegmentAllocator::allocate");
    }

    @Test
    @Timeout(60)
    void anUnboundDowncallHandleOfMallocsShapeIsReportedAsUnrouted() throws Exception {
        Result r = run("sample.unroutable", "sample.unroutable.UnboundMalloc");
        assertReportedOnce(r, "UnboundMalloc", "downcall handle of malloc's shape without a bound address");
    }

    @Test
    @Timeout(60)
    void unroutableShapesInAClassNoRouteSelectsAreNotReported() throws Exception {
        for (String main : List.of("SerializableRef", "UnboundArenaRef", "UnboundMalloc", "ReflectedMalloc")) {
            Result r = run("sample.issue", "sample.unroutable." + main);
            assertEquals(0, r.exit(), r.toString());
            assertEquals(List.of(), r.err(), main);
            assertTrue(r.report().contains("\"unrouted\": []"), r.report());
        }
    }

    /** The report's row for {@code site}, or null. */
    private static String siteRow(String report, String site) {
        return report.lines().filter(l -> l.contains("{\"site\": \"" + site + "\"")).findFirst().orElse(null);
    }

    private static int printedLine(Result r, String what) {
        return r.out().lines().filter(l -> l.startsWith(what + " ")).mapToInt(l -> Integer.parseInt(l.substring(what.length() + 1)))
                .findFirst().orElseThrow();
    }

    @Test
    @Timeout(60)
    void allocationsThroughALookedUpHandleAreReportedAtTheLookupsLineWithTheMembersCall() throws Exception {
        Result r = run("sample.sites", "sample.sites.ReportedSites");
        assertEquals(0, r.exit(), r.toString());
        String row = siteRow(r.report(), "sample.sites.ReportedSites.main(ReportedSites.java:" + printedLine(r, "lookup") + ")");
        assertTrue(row != null && row.contains("\"call\": \"allocateMemory\", \"allocations\": 2, \"bytes\": "), r.report());
        assertFalse(r.report().contains("\"call\": \"handle\""), "the lookup itself is no allocation site: " + r.report());
    }

    @Test
    @Timeout(60)
    void onlyDowncallHandlesToLibcsAllocatorAreReportedAsDowncallSites() throws Exception {
        Result r = run("sample.sites", "sample.sites.ReportedSites");
        assertEquals(0, r.exit(), r.toString());
        String malloc = siteRow(r.report(), "sample.sites.ReportedSites.main(ReportedSites.java:" + printedLine(r, "malloc") + ")");
        assertTrue(malloc != null && malloc.contains("\"call\": \"downcall\", \"allocations\": 1, "), r.report());
        for (String other : List.of("free", "strlen")) {
            String row = siteRow(r.report(), "sample.sites.ReportedSites.main(ReportedSites.java:" + printedLine(r, other) + ")");
            assertEquals(null, row, other + " allocates nothing, yet is listed as a site: " + row);
        }
    }

    @Test
    @Timeout(60)
    void aRoutesCallsChooseWhichKindsOfAllocationItTakes() throws Exception {
        String[][] cases = {
            {"allocateDirect,allocateMemory,arena,downcall", "allocateDirect=true allocateMemory=true arena=true downcall=true"},
            {"arena", "allocateDirect=false allocateMemory=false arena=true downcall=false"},
            {"downcall,allocateDirect", "allocateDirect=true allocateMemory=false arena=false downcall=true"},
        };
        for (String[] c : cases) {
            Result r = runWith(List.of("route.r.include=sample.calls", "route.r.calls=" + c[0]), "sample.calls.EveryCall");
            assertEquals(0, r.exit(), r.toString());
            assertEquals(c[1] + "\n", r.out(), "calls=" + c[0]);
            assertEquals(List.of(), r.err(), "calls=" + c[0]);
        }
        Result all = run("sample.calls", "sample.calls.EveryCall");
        assertEquals(cases[0][1] + "\n", all.out(), "all four by default");
    }

    @Test
    @Timeout(120)
    void virtualThreadsInASelectedClassGetEveryKindOfBlockFromThePoolAndGiveItBack() throws Exception {
        Result r = run("sample.vthreads", "sample.vthreads.VirtualThreads", "200");
        assertEquals(0, r.exit(), r.toString());
        // 200 threads x 20 rounds x (direct buffer, confined arena, shared arena, Unsafe)
        assertEquals("blocks: 16000\nin pool: 16000\ndamaged: 0\nin use at the end: 0\n", r.out());
        assertEquals(List.of(), r.err());
    }

    @Test
    @Timeout(120)
    void virtualThreadsInAnUnselectedClassKeepTheJdksMemory() throws Exception {
        Result r = run("sample.nothing", "sample.vthreads.VirtualThreads", "50");
        assertEquals(0, r.exit(), r.toString());
        assertEquals("blocks: 4000\nin pool: 0\ndamaged: 0\nin use at the end: 0\n", r.out());
        assertEquals(List.of(), r.err());
    }
}
