package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvmem.allocator.CtoPool;
import io.jvmem.allocator.PoolCheck;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Close-to-open pools declared in the agent's config, across real JVM restarts. */
@org.junit.jupiter.api.Tag("integration")
class CtoAgentIT {
    private static final Path JAR = Path.of("target/jvmem-agent.jar").toAbsolutePath();

    @TempDir
    Path dir;

    private String run(Path config, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-javaagent:" + JAR + "=" + config,
                "-cp", System.getProperty("java.class.path")));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    private Path config(String... lines) throws Exception {
        Path f = Files.createTempFile(dir, "jvmem", ".properties");
        Files.write(f, List.of(lines));
        return f;
    }

    @Test
    void keyValueStoreFindsItsDataAgainAfterRestarts() throws Exception {
        Path pool = dir.resolve("kv.pool");
        Path c = config("pool.kv.kind=cto", "pool.kv.path=" + pool, "pool.kv.size=16m", "pool.kv.layout=kv-example");
        run(c, "example.kv.KvMain", "put", "language", "Java");
        run(c, "example.kv.KvMain", "put", "tier", "persistent memory");
        run(c, "example.kv.KvMain", "put", "language", "Java 25");
        assertEquals("language=Java 25\n", run(c, "example.kv.KvMain", "get", "language"));
        assertEquals("tier=persistent memory\n", run(c, "example.kv.KvMain", "get", "tier"));
        assertEquals("size=2\n", run(c, "example.kv.KvMain", "size"));
        assertEquals(PoolCheck.Status.CONSISTENT, CtoPool.check(pool, "kv-example").status());
    }

    private static long poolInUse(String json) {
        Matcher m = Pattern.compile("\"name\": \"kv\", \"kind\": \"cto\".*?\"inUse\": (\\d+)").matcher(json);
        assertTrue(m.find(), json);
        return Long.parseLong(m.group(1));
    }

    @Test
    void memoryFromRewrittenSitesDoesNotLeakAcrossRuns() throws Exception {
        long x = 8L << 20; // per run through rewritten sites
        long y = (1L << 20) + (256 << 10) + (64 << 10); // kept through the root: a 1 MiB value (a 1.25 MiB class) and the table
        Path pool = dir.resolve("leak.pool");
        Path report = dir.resolve("report.json");
        Path c = config("pool.kv.kind=cto", "pool.kv.path=" + pool, "pool.kv.size=32m", "route.leak.include=sample.leak",
                "route.leak.pool=kv", "report=" + report);
        List<Long> inUse = new ArrayList<>();
        for (int run = 1; run <= 5; run++) {
            assertEquals("blob 1048576\n", run(c, "sample.leak.LeakRun"));
            String json = Files.readString(report);
            assertTrue(json.contains("\"name\": \"leak\", \"pool\": \"kv\", \"include\": [\"sample.leak\"], \"allocations\": 64"), json);
            inUse.add(poolInUse(json));
        }
        for (long u : inUse) {
            assertTrue(u <= x + y, "in use " + u + " > X + Y = " + (x + y) + ": " + inUse);
        }
        assertTrue(inUse.get(4) <= inUse.get(0), "in use grows across runs: " + inUse);
        assertEquals(PoolCheck.Status.CONSISTENT, CtoPool.check(pool, "kv").status());
    }
}
