package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The agent jar in fresh JVMs: one-line refusals of bad configs, a silent normal run, late attach. */
@org.junit.jupiter.api.Tag("integration")
class AgentProcessIT {
    private static final Path JAR = Path.of("target/jvmem-agent.jar").toAbsolutePath();

    @TempDir
    Path dir;

    private record Result(int exit, String out, List<String> err) {
    }

    private static Result java(List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(args);
        return run(cmd);
    }

    private static Result run(List<String> cmd) throws IOException, InterruptedException {
        return run(new ProcessBuilder(cmd));
    }

    private static Result run(ProcessBuilder pb) throws IOException, InterruptedException {
        assertTrue(Files.isRegularFile(JAR), "build the agent jar first: " + JAR);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        List<String> errLines = new String(err, StandardCharsets.UTF_8).lines().toList();
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), errLines);
    }

    private Path config(String... lines) throws IOException {
        Path f = Files.createTempFile(dir, "jvmem", ".properties");
        Files.write(f, List.of(lines));
        return f;
    }

    private Result runWith(Path config) throws Exception {
        return java(List.of("-javaagent:" + JAR + "=" + config, "-cp", System.getProperty("java.class.path"), "sample.late.Hello"));
    }

    private void assertRefused(Path config, String expectedLine) throws Exception {
        assertRefused(config, expectedLine, false);
    }

    /** {@code prefix}: the line starts with {@code expectedLine} (the rest names a process id). */
    private void assertRefused(Path config, String expectedLine, boolean prefix) throws Exception {
        Result r = runWith(config);
        assertEquals(1, r.exit(), "the JVM must not start: " + r);
        assertEquals(1, r.err().size(), "exactly one line: " + r.err());
        if (prefix) {
            assertTrue(r.err().get(0).startsWith(expectedLine), r.err().get(0));
        } else {
            assertEquals(expectedLine, r.err().get(0));
        }
        assertEquals("", r.out(), "the program must not run");
    }

    @Test
    void unknownKeyStopsTheJvmWithOneLine() throws Exception {
        Path c = config("pool.main.size=64m", "route.r.include=sample", "route.r.pool=main", "route.r.on-exhaust=fail");
        assertRefused(c, "jvmem: " + c + ":4: route.r.on-exhaust: unknown route key (known: include, exclude, pool, calls, min-size, on-exhausted)");
    }

    @Test
    void badValueStopsTheJvmWithOneLine() throws Exception {
        Path c = config("pool.main.size=lots");
        assertRefused(c, "jvmem: " + c + ":1: pool.main.size: \"lots\" is not a size (bytes, with an optional k, m, g or t suffix)");
    }

    @Test
    void routeNamingAnUnknownPoolStopsTheJvmWithOneLine() throws Exception {
        Path c = config("pool.main.size=64m", "route.r.include=sample", "route.r.pool=other");
        assertRefused(c, "jvmem: " + c + ":3: route.r.pool: no pool named \"other\" is configured (pools: main)");
    }

    @Test
    void samePrefixInTwoRoutesStopsTheJvmWithOneLine() throws Exception {
        Path c = config("pool.main.size=64m", "route.a.include=sample", "route.a.pool=main", "route.b.include=sample",
                "route.b.pool=main");
        assertRefused(c, "jvmem: " + c + ":4: route.b.include: \"sample\" is already included by route a");
    }

    @Test
    void missingConfigFileStopsTheJvmWithOneLine() throws Exception {
        Path c = dir.resolve("absent.properties");
        assertRefused(c, "jvmem: " + c + ": config file not found");
    }

    @Test
    @Timeout(60)
    void poolThatCannotBeCreatedStopsTheJvmWithOneLineNamingThePathLine() throws Exception {
        Path c = config("pool.main.size=64m", "pool.main.path=" + dir.resolve("no-such-dir"));
        Result r = runWith(c);
        assertEquals(1, r.exit());
        assertEquals(1, r.err().size(), r.err().toString());
        assertTrue(r.err().get(0).startsWith("jvmem: " + c + ":2: pool.main.path: "), r.err().get(0));
    }

    @Test
    @Timeout(60)
    void poolLargerThanItsFileSystemStopsTheJvmWithOneLineNamingTheSizeLine() throws Exception {
        Path small = Files.createDirectory(dir.resolve("small"));
        Process m = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", small.toString())
                .redirectErrorStream(true).start();
        m.getInputStream().readAllBytes();
        Assumptions.assumeTrue(m.waitFor(10, TimeUnit.SECONDS) && m.exitValue() == 0,
                "mounting a tmpfs needs root: the file-system-full line is not checked");
        try {
            Path c = config("# a pool three times its file system", "pool.main.path=" + small, "pool.main.size=64m");
            Result r = runWith(c);
            assertEquals(1, r.exit());
            assertEquals(1, r.err().size(), r.err().toString());
            assertTrue(r.err().get(0).startsWith("jvmem: " + c + ":3: pool.main.size: cannot reserve "), r.err().get(0));
        } finally {
            new ProcessBuilder("umount", small.toString()).start().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(60)
    void aReportThatCannotBeWrittenStopsTheJvmAtStart() throws Exception {
        Path c = config("pool.main.size=64m", "report=" + dir.resolve("missing/report.json"));
        assertRefused(c, "jvmem: " + c + ":2: report: cannot write the report: directory " + dir.resolve("missing")
                + " does not exist");
    }

    @Test
    @Timeout(60)
    void aReportOnAFileSystemThatTakesNoFilesStopsTheJvmAtStart() throws Exception {
        // /proc passes every permission check for root, yet no file can be made there: only a real write tells
        Path c = config("pool.main.size=64m", "report=/proc/jvmem-report.json");
        assertRefused(c, "jvmem: " + c + ":2: report: cannot write the report /proc/jvmem-report.json: "
                + "java.nio.file.NoSuchFileException: /proc/.jvmem-report.json.", true);
    }

    @Test
    @Timeout(60)
    void aFifoAsTheConfigFileIsRefusedAtOnce() throws Exception {
        Path fifo = dir.resolve("config.fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor(), "mkfifo");
        // before: the JVM waited for ever on the FIFO's read
        assertRefused(fifo, "jvmem: " + fifo + ": the config file is not a regular file (a FIFO, socket or device)");
    }

    @Test
    @Timeout(60)
    void deniedNativeAccessStopsTheJvmWithOneLineNamingTheFlag() throws Exception {
        Path c = config("pool.p.size=16m", "route.r.include=sample", "route.r.pool=p");
        Result r = run(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--illegal-native-access=deny",
                "-javaagent:" + JAR + "=" + c, "-cp", System.getProperty("java.class.path"), "sample.late.Hello"));
        assertEquals(1, r.exit(), r.toString());
        assertEquals(1, r.err().size(), "exactly one line: " + r.err());
        assertTrue(r.err().get(0).startsWith("jvmem: cannot start: ") && r.err().get(0).contains("IllegalCallerException")
                && r.err().get(0).contains("--enable-native-access=ALL-UNNAMED"), r.err().get(0));
        assertEquals("", r.out(), "the program must not run");
    }

    @Test
    void dirtyCtoPoolStopsTheJvmUnlessOnDirtyIsRecreate() throws Exception {
        Path pool = dir.resolve("kv.pool");
        Result made = java(List.of("-cp", System.getProperty("java.class.path"), DirtyPoolMaker.class.getName(), pool.toString(), "kv"));
        assertEquals(0, made.exit(), made.toString());
        Path c = config("pool.kv.kind=cto", "pool.kv.path=" + pool, "pool.kv.size=16m", "pool.kv.layout=kv");
        Result r = runWith(c);
        assertEquals(1, r.exit());
        assertEquals(1, r.err().size(), r.err().toString());
        assertTrue(r.err().get(0).contains("not closed cleanly") && r.err().get(0).contains("on-dirty=recreate"), r.err().get(0));
        Path recreate = config("pool.kv.kind=cto", "pool.kv.path=" + pool, "pool.kv.size=16m", "pool.kv.layout=kv",
                "pool.kv.on-dirty=recreate");
        Result ok = runWith(recreate);
        assertEquals(0, ok.exit(), ok.toString());
        assertEquals(List.of("jvmem: " + recreate + ":5: pool.kv.on-dirty: " + pool + " was not closed cleanly (the program "
                + "using it crashed or was killed): started afresh as on-dirty = recreate asks; its former contents are gone"),
                ok.err(), "throwing the contents away is never silent");
    }

    @Test
    @Timeout(120)
    void ctoPoolOfAnotherSizeThanConfiguredOpensWithItsOwnSizeAndOneLine() throws Exception {
        Path pool = dir.resolve("kv.pool");
        Path small = config("pool.kv.kind=cto", "pool.kv.path=" + pool, "pool.kv.size=32m", "pool.kv.layout=kv");
        Result made = runWith(small);
        assertEquals(0, made.exit(), made.toString());
        assertEquals(List.of(), made.err(), "the size asked for: nothing to say");
        Path big = config("pool.kv.kind=cto", "pool.kv.path=" + pool, "pool.kv.size=1g", "pool.kv.layout=kv");
        Result r = runWith(big);
        assertEquals(0, r.exit(), "the pool's data is kept: the JVM starts: " + r);
        assertEquals(List.of("jvmem: " + big + ":3: pool.kv.size: the pool file is 32 MiB, the config asks 1 GiB; "
                + "the file's size is used"), r.err());
        assertEquals("hello 64\n", r.out());
        assertEquals(32L << 20, Files.size(pool));
    }

    @Test
    void normalRunPrintsNothingButTheProgramsOutput() throws Exception {
        Path report = dir.resolve("report.json");
        Path c = config("pool.main.size=64m", "route.r.include=sample.late", "route.r.pool=main", "report=" + report);
        Result r = runWith(c);
        assertEquals(0, r.exit(), r.toString());
        assertEquals(List.of(), r.err(), "nothing on stderr");
        assertEquals("hello 64\n", r.out());
        String json = Files.readString(report);
        assertTrue(json.contains("\"site\": \"sample.late.Alloc.allocate(Alloc.java:7)\", \"route\": \"r\", \"call\": \"allocateDirect\", \"allocations\": 1"), json);
    }

    @Test
    @Timeout(60)
    void aFallbackIsLoggedOnceAtWarnAndCountedPerReasonAtExitAndInTheReport() throws Exception {
        Path report = dir.resolve("report.json");
        Path c = config("pool.main.size=14m", "route.r.include=sample.reclaim", "route.r.pool=main", "report=" + report);
        Result r = java(List.of("-javaagent:" + JAR + "=" + c, "-cp", System.getProperty("java.class.path"),
                "sample.reclaim.DropLoop", "keep", "400", "65536"));
        assertEquals(0, r.exit(), r.toString());
        assertEquals("allocations=400 oom=0\n", r.out());
        assertEquals(2, r.err().size(), "one line at the first fallback, one at exit: " + r.err());
        assertTrue(r.err().get(0).matches("\\Qjvmem: route r fell back to the JDK (DRAM) for the first time: pool main was "
                + "full after waiting for reference processing and a collection (65536 bytes at "
                + "sample.reclaim.DropLoop.main(DropLoop.java:\\E\\d+\\Q)); the exit summary counts the rest\\E"), r.err().get(0));
        String json = Files.readString(report);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"fallbacks\": (\\d+), \"fallbackBytes\": (\\d+)")
                .matcher(json);
        assertTrue(m.find(), json);
        long n = Long.parseLong(m.group(1));
        assertTrue(n > 150 && n < 400, "the pool holds some 200 of the 400 live 64 KiB buffers: " + json);
        assertEquals(n * 65536, Long.parseLong(m.group(2)), json);
        assertTrue(r.err().get(1).startsWith("jvmem: route r: " + n + " requests ("), r.err().get(1));
        assertTrue(r.err().get(1).contains(" fell back to the JDK (DRAM): "), r.err().get(1));
        assertTrue(r.err().get(1).contains(" when pool main was full, and collections were backing off (the last one "
                + "made no room for a request this large)"), r.err().get(1));
        assertTrue(json.contains("\"backedOff\": {\"requests\": "), json);
    }

    @Test
    @Timeout(60)
    void aRequestLargerThanThePoolFallsBackAsSuchOrFailsNamingIt() throws Exception {
        Path report = dir.resolve("report.json");
        Path c = config("pool.main.size=14m", "route.r.include=sample.reclaim", "route.r.pool=main", "report=" + report);
        Result r = java(List.of("-javaagent:" + JAR + "=" + c, "-cp", System.getProperty("java.class.path"),
                "sample.reclaim.DropLoop", "keep", "1", String.valueOf(64 << 20)));
        assertEquals(0, r.exit(), r.toString());
        assertEquals("allocations=1 oom=0\n", r.out());
        assertTrue(r.err().get(0).contains("pool main was smaller than the request, however empty"), r.err().toString());
        String json = Files.readString(report);
        assertTrue(json.contains("\"largerThanPool\": {\"requests\": 1, \"bytes\": " + (64 << 20) + "}"), json);
        assertTrue(json.contains("\"afterReclaim\": {\"requests\": 0,"), "no collection was waited for: " + json);
        Path fail = config("pool.main.size=14m", "route.r.include=sample.reclaim", "route.r.pool=main", "route.r.on-exhausted=fail");
        Result f = java(List.of("-javaagent:" + JAR + "=" + fail, "-cp", System.getProperty("java.class.path"),
                "sample.reclaim.DropLoop", "keep", "1", String.valueOf(64 << 20)));
        assertEquals(1, f.exit(), "the program's main ended with the OutOfMemoryError: " + f);
        assertTrue(f.err().get(0).contains("OutOfMemoryError: jvmem: request of " + (64 << 20) + " bytes at sample.reclaim."
                + "DropLoop.main") && f.err().get(0).contains("is larger than pool main can hold"), f.err().toString());
    }

    /** A JDK older than 22 (the agent's classes need 22; its premain class loads on 8 and later). */
    private static final Path OLD_JDK = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");

    /** {@code <old JDK>/bin/java}, or the test is skipped with the reason. */
    private static String oldJava() {
        Path java = OLD_JDK.resolve("bin/java");
        Assumptions.assumeTrue(Files.isExecutable(java), "no JDK 17 installed at " + OLD_JDK + " (apt-get install "
                + "openjdk-17-jdk-headless): the refusal on an old JDK is not checked");
        return java.toString();
    }

    /** The line the agent prints on the old JDK: its version from the JDK's release file. */
    private static String oldJdkLine() throws IOException {
        String version = null;
        for (String line : Files.readAllLines(OLD_JDK.resolve("release"))) {
            if (line.startsWith("JAVA_VERSION=")) {
                version = line.substring("JAVA_VERSION=".length()).replace("\"", "");
            }
        }
        return "jvmem: the agent needs JDK 22 or later; this is " + version;
    }

    @Test
    @Timeout(60)
    void onAnOlderJdkTheAgentStopsTheJvmWithOneLineAndExitCode1() throws Exception {
        String java = oldJava();
        Path c = config("pool.main.size=64m", "route.r.include=sample.late", "route.r.pool=main");
        Result r = run(List.of(java, "-javaagent:" + JAR + "=" + c, "-version"));
        assertEquals(1, r.exit(), r.toString());
        assertEquals(List.of(oldJdkLine()), r.err(), "exactly one line, no fatal error banner");
        assertEquals("", r.out());
    }

    @Test
    @Timeout(60)
    void lateAttachOnAnOlderJdkPrintsOneLineAndTheJvmRunsOn() throws Exception {
        String java = oldJava();
        Path c = config("pool.main.size=64m", "route.r.include=sample.late", "route.r.pool=main");
        Path program = Path.of("src/test/resources/old-jdk/AttachSelf.java").toAbsolutePath();
        Result r = run(List.of(java, "-Djdk.attach.allowAttachSelf=true", program.toString(), JAR.toString(), c.toString()));
        assertEquals(0, r.exit(), r.toString());
        assertEquals("loadAgent returned\nstill running\n", r.out());
        assertEquals(List.of(oldJdkLine()), jvmemLines(r.err()), "one line of the agent's: " + r.err());
        for (String line : r.err()) { // and at most the JVM's own notice that the jar joined the boot class path
            assertTrue(line.startsWith("jvmem: ") || line.endsWith(BOOT_APPEND_WARNING), line);
        }
    }

    /**
     * What the JVM prints when an agent jar's Boot-Class-Path is appended at late attach (at -javaagent it is appended
     * before class-data sharing starts, and nothing is printed).
     */
    static final String BOOT_APPEND_WARNING = "warning: Sharing is only supported for boot loader classes because "
            + "bootstrap classpath has been appended"; // after the VM's name, which differs between builds

    private static List<String> jvmemLines(List<String> err) {
        return err.stream().filter(l -> l.startsWith("jvmem")).toList();
    }

    @Test
    @Timeout(60)
    void aThreadWaitingInAFullFailPoolGetsTheBuffersAThreadDroppedWithoutAllocatingAgain() throws Exception {
        Path c = config("pool.main.size=14m", "route.r.include=sample.reclaim", "route.r.pool=main",
                "route.r.on-exhausted=fail");
        Result r = java(List.of("-javaagent:" + JAR + "=" + c, "-cp", System.getProperty("java.class.path"),
                "sample.reclaim.DropLoop", "handoff", "1048576", "200"));
        assertEquals(0, r.exit(), r.toString());
        assertEquals("allocations=1 oom=0\n", r.out(), "the waiting thread got a buffer: " + r.err());
    }

    @Test
    void lateAttachRetransformsClassesLoadedBefore() throws Exception {
        Path c = config("pool.late.size=64m", "route.r.include=sample.late", "route.r.pool=late");
        Result r = java(List.of("-Djdk.attach.allowAttachSelf=true", "-cp", System.getProperty("java.class.path"),
                "sample.late.LateMain", JAR.toString(), c.toString()));
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("before-in-pool=false"), r.out());
        assertTrue(r.out().contains("after-in-pool=true"), r.out());
    }

    @Test
    @Timeout(60)
    void aLateAttachRetransformsOnlyTheLoadedClassesWhoseClassFilesMentionAnInterceptedMember() throws Exception {
        // a retransformation is a redefinition even when no transformer changes the class (the JIT's code for it is
        // dropped, other agents' transformers run again): 2 s of CPU for OpenTelemetry's 2,500 classes, which mention
        // none. LateMain mentions none either; Alloc calls allocateDirect.
        Path c = config("pool.late.size=64m", "route.r.include=sample.late", "route.r.pool=late");
        Path log = dir.resolve("redefine.log");
        Result r = java(List.of("-Djdk.attach.allowAttachSelf=true", "-Xlog:redefine+class+load=info:file=" + log,
                "-cp", System.getProperty("java.class.path"), "sample.late.LateMain", JAR.toString(), c.toString()));
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("after-in-pool=true"), r.out());
        List<String> redefined = Files.readAllLines(log).stream().filter(l -> l.contains("redefined name=sample."))
                .map(l -> l.substring(l.indexOf("name=") + 5, l.indexOf(',', l.indexOf("name=")))).toList();
        assertEquals(List.of("sample.late.Alloc"), redefined, "only the class that allocates is redefined");
    }

    @Test
    @Timeout(120)
    void aLateAttachRetransformsTheClassesLoadedBeforeItInBatchesNotOneByOne() throws Exception {
        // each retransformClasses call is a JVM operation that walks every class: one per class made a start after
        // another agent's thousands of classes take over a minute
        Path c = config("pool.late.size=64m", "route.r.include=sample.late", "route.r.pool=late");
        Path log = dir.resolve("redefine.log");
        int classes = 2 * LoadedClasses.BATCH + 100;
        Result r = java(List.of("-Djdk.attach.allowAttachSelf=true", "-Xlog:redefine+class+timer=info:file=" + log,
                "-cp", System.getProperty("java.class.path"), "sample.late.ManyClassesMain", JAR.toString(), c.toString(),
                String.valueOf(classes)));
        assertEquals(0, r.exit(), r.toString());
        assertEquals("after-in-pool=true\n", r.out(), "the class loaded before the attach was rewritten");
        long operations = Files.readAllLines(log).stream().filter(l -> l.contains("vm_op:")).count();
        assertTrue(operations >= 3, "the generated classes alone need three batches: " + operations);
        assertTrue(operations <= 6, classes + " classes loaded before the attach, retransformed in " + operations
                + " operations (batches of " + LoadedClasses.BATCH + ", plus sun.misc.Unsafe and the linker if loaded)");
    }

    @Test
    @Timeout(60)
    void aLateAttachWhosePoolFailedAfterTheBridgeWasDefinedCanBeRetriedWithAGoodConfig() throws Exception {
        // the pools open while the bridge is defined, so a pool error comes after java.nio has the bridge's classes
        Path bad = config("pool.late.size=64m", "pool.late.path=" + dir.resolve("no-such-dir"), "route.r.include=sample.late",
                "route.r.pool=late");
        Path good = config("pool.late.size=64m", "route.r.include=sample.late", "route.r.pool=late");
        Result r = java(List.of("-Djdk.attach.allowAttachSelf=true", "-cp", System.getProperty("java.class.path"),
                "sample.late.RetryMain", JAR.toString(), bad.toString(), good.toString()));
        assertEquals(0, r.exit(), r.toString());
        assertEquals("first=refused\nsecond=loaded\nafter-in-pool=true\n", r.out(), r.err().toString());
        assertTrue(r.err().stream().anyMatch(l -> l.startsWith("jvmem: " + bad + ":2: pool.late.path: ")), r.err().toString());
        assertTrue(r.err().stream().noneMatch(l -> l.contains("already running")), r.err().toString());
    }

    @Test
    void aSecondAgentInstanceIsRefusedWithOneLineAndTheProgramRuns() throws Exception {
        Path c = config("pool.main.size=16m", "route.r.include=sample.late", "route.r.pool=main");
        Result r = java(List.of("-javaagent:" + JAR + "=" + c, "-javaagent:" + JAR + "=" + c, "-cp",
                System.getProperty("java.class.path"), "sample.late.Hello"));
        assertEquals(0, r.exit(), r.toString());
        assertEquals(List.of("jvmem: the agent is already running in this JVM; it was not started again"), r.err());
        assertEquals("hello 64\n", r.out());
    }

    @Test
    @Timeout(60)
    void theAgentsClassesLoadThroughTheBootLoaderAndRoute() throws Exception {
        assertAgentLoaderAndOneRoutedBuffer(JAR, System.getProperty("java.class.path"), "boot");
    }

    @Test
    @Timeout(60)
    void theAgentJarInADirectoryWithASpaceStillLoadsThroughTheBootLoader() throws Exception {
        Path spaced = Files.createDirectories(dir.resolve("with space"));
        assertAgentLoaderAndOneRoutedBuffer(Files.copy(JAR, spaced.resolve(AgentJar.NAME)),
                Path.of("target/test-classes").toAbsolutePath().toString(), "boot");
    }

    @Test
    @Timeout(60)
    void aRenamedAgentJarStillStartsAndRoutesFromTheApplicationLoader() throws Exception {
        // only the test classes on the class path: the agent's own classes must come from the renamed jar
        assertAgentLoaderAndOneRoutedBuffer(Files.copy(JAR, dir.resolve("my-jvmem.jar")),
                Path.of("target/test-classes").toAbsolutePath().toString(), "app");
    }

    @Test
    @Timeout(60)
    void aRenamedJarBesideAnotherJvmemAgentJarIsRefusedWithOneLineNamingBoth() throws Exception {
        Path renamed = Files.copy(JAR, dir.resolve("jvmem-agent-next.jar"));
        Path beside = Files.copy(JAR, dir.resolve(AgentJar.NAME));
        Path c = config("pool.main.size=16m", "route.r.include=sample.boot", "route.r.pool=main");
        Result r = java(List.of("-javaagent:" + renamed + "=" + c, "-cp", Path.of("target/test-classes").toAbsolutePath()
                .toString(), "sample.boot.AgentLoader"));
        assertRenamedJarRefused(r, r.err(), renamed, beside);
    }

    @Test
    @Timeout(60)
    void aRenamedJarBesideAnotherNamedByAQuotedPathWithASpaceInJavaToolOptionsIsRefused() throws Exception {
        Path spaced = Files.createDirectories(dir.resolve("with space"));
        Path renamed = Files.copy(JAR, spaced.resolve("jvmem-agent-next.jar"));
        Path beside = Files.copy(JAR, spaced.resolve(AgentJar.NAME));
        Path c = config("pool.main.size=16m", "route.r.include=sample.boot", "route.r.pool=main");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", Path.of("target/test-classes").toAbsolutePath().toString(),
                "sample.boot.AgentLoader");
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("JAVA_TOOL_OPTIONS", "'-javaagent:" + renamed + "=" + c + "'");
        Result r = run(pb);
        // the JVM adds its "Picked up JAVA_TOOL_OPTIONS" line: the agent's own lines are counted
        assertRenamedJarRefused(r, r.err().stream().filter(l -> l.startsWith("jvmem:")).toList(), renamed, beside);
    }

    @Test
    @Timeout(60)
    void aRenamedJarBesideAnotherNamedInAnArgumentFileIsRefused() throws Exception {
        Path renamed = Files.copy(JAR, dir.resolve("jvmem-agent-next.jar"));
        Path beside = Files.copy(JAR, dir.resolve(AgentJar.NAME));
        Path c = config("pool.main.size=16m", "route.r.include=sample.boot", "route.r.pool=main");
        Path argFile = Files.write(dir.resolve("jvm.args"), List.of("-javaagent:" + renamed + "=" + c));
        Result r = java(List.of("@" + argFile, "-cp", Path.of("target/test-classes").toAbsolutePath().toString(),
                "sample.boot.AgentLoader"));
        assertRenamedJarRefused(r, r.err(), renamed, beside);
    }

    /** The program did not run, and {@code lines} are one line refusing {@code renamed}, naming the jar beside it. */
    private static void assertRenamedJarRefused(Result r, List<String> lines, Path renamed, Path beside) {
        assertEquals(1, r.exit(), r.toString());
        assertEquals(1, lines.size(), r.err().toString());
        assertTrue(lines.get(0).startsWith("jvmem: the agent jar " + renamed) && lines.get(0).contains(beside.toString()),
                lines.get(0));
        assertEquals("", r.out(), "the program must not run");
    }

    private void assertAgentLoaderAndOneRoutedBuffer(Path jar, String classPath, String loader) throws Exception {
        Path report = dir.resolve("report.json");
        Path c = config("pool.main.size=16m", "route.r.include=sample.boot", "route.r.pool=main", "report=" + report);
        Result r = java(List.of("-javaagent:" + jar + "=" + c, "-cp", classPath, "sample.boot.AgentLoader"));
        assertEquals(0, r.exit(), r.toString());
        assertEquals(List.of(), r.err(), "nothing on stderr");
        assertEquals("agent-loader=" + loader + "\ncapacity=4096\n", r.out());
        assertTrue(Files.readString(report).contains("\"allocations\": 1"), Files.readString(report));
    }
}
