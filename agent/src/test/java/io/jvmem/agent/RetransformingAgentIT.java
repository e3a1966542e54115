package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
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

/**
 * Another agent that retransforms a routed class again and again while the program allocates through it
 * ({@code sample.retransform}: its transformer adds advice to every method, as APM agents' do), started before and
 * after jvmem. Each retransformation runs jvmem's rewrite again: the sites must keep their ids (one report entry each,
 * counting each allocation once), no trampoline class may be made again, and allocations stay routed.
 */
@org.junit.jupiter.api.Tag("integration")
class RetransformingAgentIT {
    private static final Path JAR = Path.of("target/jvmem-agent.jar").toAbsolutePath();
    private static final int RETRANSFORMS = 200;
    private static final int AFTER = 50;

    @TempDir
    Path dir;

    private record Run(int exit, String out, String err, Path report) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
        }

        long value(String key) {
            for (String word : out.strip().split(" ")) {
                if (word.startsWith(key + "=")) {
                    return Long.parseLong(word.substring(key.length() + 1));
                }
            }
            throw new AssertionError("no " + key + "= in " + this);
        }
    }

    private Run run(boolean otherFirst) throws Exception {
        Path report = dir.resolve("report.json");
        Path config = dir.resolve("jvmem.properties");
        Files.write(config, List.of("pool.r.size=32m", "route.r.include=sample.retransform.Target", "route.r.pool=r",
                "route.r.on-exhausted=fail", "report=" + report));
        String jvmem = "-javaagent:" + JAR + "=" + config;
        String other = "-javaagent:" + ManifestOnlyAgent.write(dir.resolve("retransformer.jar"),
                "sample.retransform.Retransformer", true);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(otherFirst ? List.of(other, jvmem) : List.of(jvmem, other));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "sample.retransform.RetransformMain",
                String.valueOf(RETRANSFORMS), String.valueOf(AFTER), "r"));
        assertTrue(Files.isRegularFile(JAR), "build the agent jar first: " + JAR);
        Process p = new ProcessBuilder(cmd).redirectError(dir.resolve("err.txt").toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(90, TimeUnit.SECONDS), "the program did not finish");
        return new Run(p.exitValue(), out, Files.readString(dir.resolve("err.txt")), report);
    }

    /** Every allocation in the pool and counted once at its site; no site or trampoline made twice; advice ran. */
    private void assertSitesStableAndRouted(Run r) throws Exception {
        assertEquals(0, r.exit(), r.toString());
        assertEquals("", r.err(), "jvmem (and the other agent) print nothing");
        assertEquals(0, r.value("outside"), "every buffer, before, during and after the retransforms, is pool memory: " + r);
        assertEquals(1, r.value("advised"), "the other agent's advice ran in the routed class: " + r);
        assertEquals(r.value("trampolinesBefore"), r.value("trampolinesAfter"),
                "a retransformation made trampoline classes again: " + r);
        assertTrue(r.value("trampolinesBefore") >= 1, "the looked-up handle's site has its trampoline: " + r);

        String json = Files.readString(r.report());
        @SuppressWarnings("unchecked")
        Map<String, Object> root = (Map<String, Object>) io.jvmem.allocator.Json.parse(json);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> sites = ((List<Map<String, Object>>) root.get("sites")).stream()
                .filter(s -> "r".equals(s.get("route"))).toList();
        for (String[] site : new String[][] {{"call", "sample.retransform.Target.call("},
                {"reference", "sample.retransform.Target.reference("}, {"handle", "sample.retransform.Target.handle("}}) {
            List<Map<String, Object>> at = sites.stream().filter(s -> ((String) s.get("site")).startsWith(site[1])).toList();
            assertEquals(1, at.size(), "one report entry for the site in " + site[1] + " after " + RETRANSFORMS
                    + " retransformations:\n" + json);
            assertEquals(r.value(site[0]), ((Number) at.get(0).get("allocations")).longValue(),
                    "the report counts each allocation at " + site[1] + " once:\n" + json + "\n" + r);
        }
        assertEquals(3, sites.size(), "no other site on the route:\n" + json);
        @SuppressWarnings("unchecked")
        Map<String, Object> agent = (Map<String, Object>) root.get("agent");
        assertEquals(0L, ((Number) agent.get("rewriteFailures")).longValue(), json);
    }

    @Test
    @Timeout(120)
    void anAgentStartedBeforeJvmemRetransformingARoutedClassRepeatedlyKeepsItsSitesAndRouting() throws Exception {
        assertSitesStableAndRouted(run(true));
    }

    @Test
    @Timeout(120)
    void anAgentStartedAfterJvmemRetransformingARoutedClassRepeatedlyKeepsItsSitesAndRouting() throws Exception {
        assertSitesStableAndRouted(run(false));
    }
}
