package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A program under the agent whose pool uses every tier key: memfd:, max-size, numa and huge-pages. */
@org.junit.jupiter.api.Tag("integration")
class TierAgentIT {
    private static final Path JAR = Path.of("target/jvmem-agent.jar").toAbsolutePath();

    @Test
    @Timeout(120)
    void aMemfdPoolBoundToNode0GrowsPastItsInitialSizeUnderTheAgent(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("report.json");
        Path config = dir.resolve("jvmem.properties");
        Files.write(config, List.of(
                "pool.t.path = memfd:",
                "pool.t.size = 16m",
                "pool.t.max-size = 256m",
                "pool.t.numa = bind:0",
                "pool.t.huge-pages = transparent",
                "route.t.include = sample.tier",
                "route.t.pool = t",
                "route.t.on-exhausted = fail",
                "report = " + report));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-javaagent:" + JAR + "=" + config,
                "-cp", System.getProperty("java.class.path"), "sample.tier.TierRun").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(90, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        Matcher m = Pattern.compile("served 96 MiB; pool size (\\d+)").matcher(out);
        assertTrue(m.find(), out);
        long size = Long.parseLong(m.group(1));
        assertTrue(size > 96L << 20 && size <= 256L << 20, "the pool grew in place from 16 MiB: " + size);
        String json = Files.readString(report);
        assertTrue(json.contains("\"name\": \"t\", \"kind\": \"volatile\", \"path\": \"memfd:\""), json);
        assertTrue(json.contains("\"maxSize\": 268435456, \"numa\": \"bind:0\""), json);
        assertTrue(json.contains("\"hugePages\": \"transparent\""), json);
        Matcher nodes = Pattern.compile("\"pagesPerNode\": \\[(\\d+)\\]").matcher(json);
        assertTrue(nodes.find(), "pages on node 0 only: " + json);
        assertTrue(Long.parseLong(nodes.group(1)) >= 96 * 256, json);
    }
}
