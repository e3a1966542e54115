package io.jvmem.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/demo's last step, run as bin/demo runs it: the demo sources compiled with javac, then {@code java -cp <classes>
 * demo.Demo agent/target/jvmem-agent.jar demo/jvmem.properties} in a fresh JVM. Its closing lines must say what the
 * agent's report of the same run says.
 */
@org.junit.jupiter.api.Tag("integration")
class DemoIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @Test
    @Timeout(300)
    void theDemosClosingSummaryTellsWhatItsReportSays() throws Exception {
        Path classes = Files.createDirectory(dir.resolve("classes"));
        // As bin/demo: the demo's runner reads the report with the allocator's JSON reader.
        String json = Path.of(io.jvmem.allocator.Json.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        List<String> javac = new ArrayList<>(List.of("-cp", json, "-d", classes.toString()));
        try (Stream<Path> s = Files.walk(ROOT.resolve("demo/src"))) {
            s.filter(p -> p.toString().endsWith(".java")).forEach(p -> javac.add(p.toString()));
        }
        assertEquals(0, ToolProvider.getSystemJavaCompiler().run(null, null, null, javac.toArray(String[]::new)), "javac demo/src");

        // As bin/demo: the repository's config; its relative report path lands under the working directory.
        Path work = Files.createDirectory(dir.resolve("work"));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classes + java.io.File.pathSeparator + json, "demo.Demo", Forked.agentJar().toString(), ROOT.resolve("demo/jvmem.properties").toString())
                .directory(work.toFile()).redirectOutput(dir.resolve("stdout.txt").toFile())
                .redirectError(dir.resolve("stderr.txt").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        assertTrue(p.waitFor(240, TimeUnit.SECONDS), "the demo did not finish");
        String out = Files.readString(dir.resolve("stdout.txt"), StandardCharsets.UTF_8);
        String err = Files.readString(dir.resolve("stderr.txt"), StandardCharsets.UTF_8);
        String context = "\n--- demo stdout:\n" + out + "--- stderr:\n" + err;
        assertEquals(0, p.exitValue(), context);
        Report report = Report.read(work.resolve("demo/target/report.json"), context);
        // The agent says nothing but the lines of a route that fell back (the first fallback, then the exit's count).
        long fallbacks = report.list("routes").stream().mapToLong(r -> report.number(r, "fallbacks")).sum();
        for (String line : err.lines().toList()) {
            assertTrue(fallbacks > 0 && line.startsWith("jvmem: route ") && line.contains("fell back"),
                    "the demo's runs print nothing else on stderr" + context);
        }
        int at = out.indexOf("== What happened\n");
        assertTrue(at >= 0, context);
        List<String> summary = out.substring(at).lines().toList();
        assertFalse(out.contains("{"), "no JSON on the terminal: it stays in the report file" + context);

        assertTrue(summary.get(1).startsWith("Ran       demo.app.TileCache twice, unmodified: ")
                && summary.get(1).endsWith("; the same output both times."), context);
        List<Map<String, Object>> sites = report.sites();
        long rewritten = report.number(agent(report), "classesRewritten");
        assertEquals("Routed    " + count(sites.size(), "call site") + " in " + count(rewritten, "rewritten class") + ":",
                summary.get(2), context);
        for (Map<String, Object> s : sites) {
            assertLine(summary, String.format(Locale.ROOT, "            %s  %s  route %s: %s, %s", s.get("site"), s.get("call"),
                    s.get("route"), count(report.number(s, "allocations"), "allocation"), mib(report.number(s, "bytes"))), context);
        }
        for (Map<String, Object> pool : report.list("pools")) {
            assertTrue(report.number(pool, "peakInUse") <= report.number(pool, "usable"), "peak above usable" + context);
            assertLine(summary, String.format(Locale.ROOT,
                    "Pool      %s (%s, in %s, %s of which %s usable): %s in use at exit, %s at the peak.", pool.get("name"),
                    pool.get("kind"), pool.get("path"), mib(report.number(pool, "size")), mib(report.number(pool, "usable")),
                    mib(report.number(pool, "inUse")), mib(report.number(pool, "peakInUse"))), context);
        }
        for (Map<String, Object> route : report.list("routes")) {
            long routeFallbacks = report.number(route, "fallbacks");
            if (routeFallbacks == 0) {
                assertLine(summary, "Fallback  none on route " + route.get("name") + ": pool " + route.get("pool")
                        + " served every request.", context);
            } else {
                assertLine(summary, String.format(Locale.ROOT,
                        "Fallback  route %s: %s (%s) went to the JDK's memory instead, because the pool was:",
                        route.get("name"), count(routeFallbacks, "request"), mib(report.number(route, "fallbackBytes"))), context);
                @SuppressWarnings("unchecked")
                Map<String, Map<String, Object>> reasons = (Map<String, Map<String, Object>>) route.get("fallbackReasons");
                for (Map.Entry<String, Map<String, Object>> e : reasons.entrySet()) {
                    long n = report.number(e.getValue(), "requests");
                    assertEquals(n > 0, summary.stream().anyMatch(l -> l.startsWith("            " + e.getKey() + ": "
                            + count(n, "request") + " (" + mib(report.number(e.getValue(), "bytes")) + "): ")), e.getKey() + context);
                }
            }
        }
        assertEquals("Report    demo/target/report.json: every figure as JSON, for tools; README.md (\"The report\") "
                + "explains each field.", summary.get(summary.size() - 1), context);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> agent(Report r) {
        return (Map<String, Object>) r.root.get("agent");
    }

    private static void assertLine(List<String> summary, String line, String context) {
        assertTrue(summary.contains(line), "missing line:\n" + line + context);
    }

    private static String count(long n, String what) {
        return String.format(Locale.ROOT, "%,d %s", n, n == 1 ? what : what.endsWith("ss") ? what + "es" : what + "s");
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%,.1f MiB", bytes / 1048576.0);
    }
}
