package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * The two ways a routed arena segment's cleanup reaches the JDK keep the same lifetime rules, in JVMs of their own:
 * straight into the arena session's resource list (JDK 22 to 25, the default) and, where this JDK's internals differ,
 * through {@code MemorySegment.reinterpret(size, arena, cleanup)}. The second is forced by an agent started first that
 * takes the name of the first ({@code sample.cleanup.SessionReleaseBlocker}).
 */
@org.junit.jupiter.api.Tag("integration")
class ArenaCleanupIT {
    private static final Path JAR = Path.of("target/jvmem-agent.jar").toAbsolutePath();
    private static final String RULES = """
            confined from pool: true
            confined in use: true
            confined back at close: true
            shared from pool on another thread: true
            shared back at close: true
            closed arena throws: true
            closed arena keeps no block: true
            another thread's confined arena throws: true
            another thread's arena keeps no block: true
            auto from pool: true
            auto back when unreachable: true
            global from pool: true
            global never back: true
            """;

    private static final String REINTERPRET = "jvmem: this JDK's arena sessions differ from JDK 22-25's: routed arena"
            + " segments hand their cleanup to the JDK through MemorySegment.reinterpret (same lifetime, two more objects per"
            + " segment)";

    @TempDir
    Path dir;

    @Test
    @Timeout(90)
    void cleanupsInTheArenaSessionsListKeepEveryLifetimeRule() throws Exception {
        assertEquals(RULES, run(List.of(), false));
    }

    @Test
    @Timeout(90)
    void cleanupsThroughReinterpretKeepEveryLifetimeRuleWhereTheSessionClassesDiffer() throws Exception {
        assertEquals(RULES, run(List.of("-javaagent:" + ManifestOnlyAgent.write(dir.resolve("blocker.jar"),
                "sample.cleanup.SessionReleaseBlocker", false)), true));
    }

    /**
     * Runs the sample after the agents {@code first}, at log=info: {@code reinterpret} says whether it must say
     * {@link #REINTERPRET}.
     */
    private String run(List<String> first, boolean reinterpret) throws Exception {
        assertTrue(Files.isRegularFile(JAR), "build the agent jar first: " + JAR);
        Path config = dir.resolve("jvmem.properties");
        Files.write(config, List.of("pool.p.size=16m", "route.r.include=sample.cleanup", "route.r.pool=p", "log=info"));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(first);
        cmd.addAll(List.of("-javaagent:" + JAR + "=" + config, "-cp", System.getProperty("java.class.path"),
                "sample.cleanup.ArenaLifecycle"));
        Process p = new ProcessBuilder(cmd).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out + err);
        assertEquals(reinterpret, err.lines().anyMatch(REINTERPRET::equals), err);
        return out;
    }

}
