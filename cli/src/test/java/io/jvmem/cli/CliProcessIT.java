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
            assertTrue(text.out().startsWith("== pool held (process " + target.pid() + ")\n"), text.out());
            Result json = jvmem("stats", "--pid", Long.toString(target.pid()), "--json", "-o", "bla");
            assertEquals(0, json.exit(), json.toString());
            Map<?, ?> root = (Map<?, ?>) Json.parse(json.out());
            Map<?, ?> entry = (Map<?, ?>) ((List<?>) root.get("pools")).get(0);
            assertEquals("held", entry.get("name"), "each pool named, whatever -o leaves out");
            Map<?, ?> pool = (Map<?, ?>) entry.get("jvmem");
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
    void attachSaysTheConfigsWarningsWhereTheCommandWasTyped() throws Exception {
        Path config = Files.write(dir.resolve("warn.properties"), List.of("pool.main.size=32m",
                "route.r.include=sample.cli, java.nio", "route.r.pool=main"));
        withSleeper(target -> {
            Result r = jvmem("attach", "--pid", Long.toString(target.pid()), config.toString());
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.err().contains("jvmem: " + config + ":2: route.r.include: \"java.nio\" is in packages the agent "
                    + "never rewrites"), r.toString());
        });
    }

    /** The agent in the target resolves a relative report path against the target's working directory: so does the check. */
    @Test
    void attachChecksARelativeReportPathAgainstTheTargetsWorkingDirectory() throws Exception {
        Path targetDir = Files.createDirectories(dir.resolve("target-cwd").resolve("reports")).getParent();
        Path config = Files.write(dir.resolve("relative.properties"), List.of("pool.main.size=32m",
                "route.r.include=sample.cli", "route.r.pool=main", "report=reports/r.json"));
        Path stop = dir.resolve("stop-relative");
        Process target = new ProcessBuilder(JAVA, "--enable-native-access=ALL-UNNAMED", "-XX:+EnableDynamicAgentLoading", "-cp",
                System.getProperty("java.class.path"), "sample.cli.Sleeper", stop.toString()).directory(targetDir.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            assertEquals("ready", new BufferedReader(new InputStreamReader(target.getInputStream(), StandardCharsets.UTF_8))
                    .readLine());
            Result r = jvmem("attach", "--pid", Long.toString(target.pid()), config.toString()); // no reports/ here
            assertEquals(0, r.exit(), r.toString());
            Files.writeString(stop, "");
            assertTrue(target.waitFor(60, TimeUnit.SECONDS));
            assertTrue(Files.isRegularFile(targetDir.resolve("reports/r.json")), "the report where the target put it");
        } finally {
            target.destroyForcibly();
        }
    }

    @Test
    void attachRefusesABadConfigWithItsLineAndAttachesNothing() throws Exception {
        Path config = Files.write(dir.resolve("bad.properties"), List.of("pool.main.size=12q", "route.r.include=sample.cli",
                "route.r.pool=main"));
        withSleeper(target -> {
            Result r = jvmem("attach", "--pid", Long.toString(target.pid()), config.toString());
            assertEquals(2, r.exit(), r.toString());
            assertTrue(r.err().startsWith("jvmem: " + config + ":1: pool.main.size: "), "one prefix: " + r);
            assertTrue(r.err().contains("nothing was attached to process " + target.pid()), r.toString());
            Result again = jvmem("attach", "--pid", Long.toString(target.pid()), Files.write(dir.resolve("good.properties"),
                    List.of("pool.main.size=32m", "route.r.include=sample.cli", "route.r.pool=main")).toString());
            assertEquals(0, again.exit(), "the refused config left the JVM free for a good one: " + again);
        });
    }

    @Test
    void attachRefusesAJvmThatRunsTheAgentAlready() throws Exception {
        Path config = Files.write(dir.resolve("late.properties"), List.of("pool.main.size=32m", "route.r.include=sample.cli",
                "route.r.pool=main"));
        withSleeper(target -> {
            assertEquals(0, jvmem("attach", "--pid", Long.toString(target.pid()), config.toString()).exit());
            Result r = jvmem("attach", "--pid", Long.toString(target.pid()), config.toString());
            assertEquals(2, r.exit(), r.toString());
            assertTrue(r.err().contains("the jvmem agent already runs in process " + target.pid() + " (config " + config
                    + "); it starts once per JVM"), r.toString());
        });
    }

    private interface WithTarget {
        void run(Process target) throws Exception;
    }

    /** Runs {@code body} against a sleeping JVM that allows agents to be loaded into it, then stops that JVM. */
    private void withSleeper(WithTarget body) throws Exception {
        Path stop = dir.resolve("stop");
        Process target = start(List.of("-XX:+EnableDynamicAgentLoading"), "sample.cli.Sleeper", stop.toString());
        try {
            body.run(target);
        } finally {
            Files.writeString(stop, "");
            target.waitFor(30, TimeUnit.SECONDS);
            target.destroyForcibly();
        }
    }

    @Test
    void attachRefusesAJvmOlderThanJdk22() throws Exception {
        Path old = Path.of("/usr/lib/jvm/java-17-openjdk-amd64/bin/java");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(old), "no JDK 17 at " + old + ": not checked");
        Path program = Files.writeString(dir.resolve("Wait.java"), "public class Wait { public static void main(String[] a)"
                + " throws Exception { System.out.println(\"ready\"); System.out.flush(); Thread.sleep(60_000); } }");
        Process target = new ProcessBuilder(old.toString(), program.toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            BufferedReader r = new BufferedReader(new InputStreamReader(target.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("ready", r.readLine());
            Path config = Files.write(dir.resolve("late.properties"), List.of("pool.main.size=32m", "route.r.include=Wait",
                    "route.r.pool=main"));
            Result res = jvmem("attach", "--pid", Long.toString(target.pid()), config.toString());
            assertEquals(2, res.exit(), res.toString());
            assertTrue(res.err().contains("process " + target.pid() + " runs Java 17"), res.toString());
            assertTrue(res.err().contains("the jvmem agent needs JDK 22 or later (nothing was attached)"), res.toString());
        } finally {
            target.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
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
