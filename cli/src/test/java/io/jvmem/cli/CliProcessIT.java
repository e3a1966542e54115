package io.jvmem.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvmem.allocator.Json;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The built jar and bin/jvmem against running JVMs: stats --pid over local JMX, attach of the agent. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
@org.junit.jupiter.api.Tag("integration")
class CliProcessIT {
    private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

    @TempDir
    Path dir;

    private record Result(int exit, String out, String err) {
    }

    private static Result run(List<String> cmd, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    private static Result jvmem(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(JAVA, "--enable-native-access=ALL-UNNAMED",
                "-Djvmem.agent.jar=" + System.getProperty("jvmem.agent.jar"), "-jar", System.getProperty("jvmem.cli.jar")));
        cmd.addAll(List.of(args));
        return run(cmd, Map.of());
    }

    /** A JVM running {@code main}, once it printed "ready". */
    private static Process start(List<String> jvmArgs, String main, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(JAVA, "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(jvmArgs);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("ready", r.readLine());
        return p;
    }

    @Test
    void statsOfARunningJvmComeThroughLocalJmx() throws Exception {
        Process target = start(List.of(), "sample.cli.HoldPool", "volatile", "held");
        try {
            Result text = jvmem("stats", "--pid", Long.toString(target.pid()));
            assertEquals(0, text.exit(), text.toString());
            assertTrue(text.out().contains("Pool: held (volatile, /dev/shm)"), text.out());
            Result json = jvmem("stats", "--pid", Long.toString(target.pid()), "--json", "-o", "bla");
            assertEquals(0, json.exit(), json.toString());
            Map<?, ?> root = (Map<?, ?>) Json.parse(json.out());
            Map<?, ?> pool = (Map<?, ?>) ((Map<?, ?>) ((List<?>) root.get("pools")).get(0)).get("jvmem");
            assertEquals(100L, ((Map<?, ?>) pool.get("stats")).get("mallocs"));
            assertTrue(!pool.containsKey("bins") && !pool.containsKey("large"), pool.keySet().toString());
        } finally {
            target.destroyForcibly().waitFor();
        }
        Result gone = jvmem("stats", "--pid", "999999999");
        assertEquals(2, gone.exit(), gone.toString());
    }

    @Test
    void attachLoadsTheAgentIntoARunningJvm() throws Exception {
        Path report = dir.resolve("report.json");
        Path config = Files.write(dir.resolve("late.properties"), List.of("pool.main.size=32m", "route.r.include=sample.cli",
                "route.r.pool=main", "report=" + report));
        Path stop = dir.resolve("stop");
        Process target = start(List.of("-XX:+EnableDynamicAgentLoading"), "sample.cli.Sleeper", stop.toString());
        try {
            Result r = jvmem("attach", "--pid", Long.toString(target.pid()), config.toString());
            assertEquals(0, r.exit(), r.toString());
            assertEquals("jvmem: agent loaded into process " + target.pid() + " with " + config + "\n", r.out());
            Thread.sleep(500); // some allocations under the agent
            Files.writeString(stop, "");
            assertTrue(target.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, target.exitValue());
        } finally {
            target.destroyForcibly();
        }
        Map<?, ?> route = (Map<?, ?>) ((List<?>) ((Map<?, ?>) Json.parse(Files.readString(report))).get("routes")).get(0);
        assertTrue((Long) route.get("allocations") > 0, route.toString());
    }

    @Test
    void binJvmemFindsAJdkItselfWhereTheDefaultJavaIsOlder() throws Exception {
        Path file = dir.resolve("p.pool");
        Path bin = Path.of(System.getProperty("jvmem.cli.jar")).getParent().resolve("../../bin/jvmem").normalize();
        Map<String, String> env = Map.of("JAVA_HOME", "", "PATH", "/usr/bin:/bin");
        Result create = run(List.of(bin.toString(), "create", "--size", "16m", file.toString()), env);
        assertEquals(0, create.exit(), create.toString());
        Result check = run(List.of(bin.toString(), "check", file.toString()), env);
        assertEquals(0, check.exit(), check.toString());
        assertEquals(file + ": consistent\n", check.out());
    }
}
