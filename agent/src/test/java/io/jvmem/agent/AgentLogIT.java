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
}
