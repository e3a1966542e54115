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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The agent's {@code log} key drives the allocator's logger (LogPolicy), unless jvmem.log.level gives the level. */
@org.junit.jupiter.api.Tag("integration")
class AgentLogIT {
    private static final Path JAR = Path.of("target/jvmem-agent.jar").toAbsolutePath();

    @TempDir
    Path dir;

    /** Runs sample.late.Hello under the agent with {@code log=<level>} and the extra JVM options; the exit code. */
    private int run(String level, String... jvmOptions) throws IOException, InterruptedException {
        assertTrue(Files.isRegularFile(JAR), "build the agent jar first: " + JAR);
        Path config = dir.resolve("jvmem.properties");
        Files.write(config, List.of("pool.main.size=64m", "log=" + level));
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(List.of(jvmOptions));
        cmd.addAll(List.of("-javaagent:" + JAR + "=" + config, "-cp", System.getProperty("java.class.path"),
                "sample.late.Hello"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("out").toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return p.exitValue();
    }

    /** The log files named {@code agent-<pid>} in the test directory. */
    private List<Path> logFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(f -> f.getFileName().toString().matches("agent-[0-9]+")).toList();
        }
    }

    @Test
    @Timeout(120)
    void logInfoTracesPoolCreationIntoTheAllocatorsLogFile() throws Exception {
        assertEquals(0, run("info", "-Djvmem.log.file=" + dir.resolve("agent-")), Files.readString(dir.resolve("out")));
        List<Path> files = logFiles();
        assertEquals(1, files.size(), files.toString());
        String log = Files.readString(files.get(0), StandardCharsets.UTF_8);
        assertTrue(log.contains("INFO jvmem: volatile pool main at "), log);
    }

    @Test
    @Timeout(120)
    void logWarnLeavesTheAllocatorsLoggerSilent() throws Exception {
        assertEquals(0, run("warn", "-Djvmem.log.file=" + dir.resolve("agent-")));
        assertEquals(List.of(), logFiles());
    }

    @Test
    @Timeout(120)
    void jvmemLogLevelWinsOverTheLogKey() throws Exception {
        assertEquals(0, run("info", "-Djvmem.log.level=0", "-Djvmem.log.file=" + dir.resolve("agent-")));
        assertEquals(List.of(), logFiles());
    }

    /**
     * Runs sample.reclaim.DropLoop keeping 400 buffers of 64 KiB alive in a 14 MiB pool whose route falls back, with
     * {@code log=<level>} and the allocator's log in the test directory; the agent's stderr lines.
     */
    private List<String> runFallingBack(String level) throws IOException, InterruptedException {
        Path config = dir.resolve("fallback.properties");
        Files.write(config, List.of("pool.main.size=14m", "route.r.include=sample.reclaim", "route.r.pool=main",
                "log=" + level));
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Djvmem.log.file=" + dir.resolve("agent-"),
                "-javaagent:" + JAR + "=" + config, "-cp", System.getProperty("java.class.path"),
                "sample.reclaim.DropLoop", "keep", "400", "65536");
        Process p = new ProcessBuilder(cmd).redirectOutput(dir.resolve("out").toFile()).start();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), new String(err, StandardCharsets.UTF_8));
        return new String(err, StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("jvmem: route r")).toList();
    }

    private String allocatorLog() throws IOException {
        List<Path> files = logFiles();
        assertEquals(1, files.size(), files.toString());
        return Files.readString(files.get(0), StandardCharsets.UTF_8);
    }

    @Test
    @Timeout(120)
    void logInfoLeavesAFullPoolToTheAgentsOwnLinesNotOneAllocatorErrorPerRequest() throws Exception {
        List<String> agentLines = runFallingBack("info");
        assertEquals(2, agentLines.size(), "the first fallback and the exit summary: " + agentLines);
        String log = allocatorLog();
        assertTrue(log.contains("INFO jvmem: volatile pool main at "), log);
        assertTrue(!log.contains("ERROR"), "no error detail per full-pool request at info: " + log);
    }

    @Test
    @Timeout(120)
    void logDebugStillLogsEveryFullPoolDetail() throws Exception {
        runFallingBack("debug");
        long details = allocatorLog().lines().filter(l -> l.contains("OUT_OF_MEMORY: out of memory in pool main")).count();
        assertTrue(details > 100, "debug keeps every error's detail (about 200 requests fell back): " + details);
    }
}
