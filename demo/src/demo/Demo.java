package demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * What {@code bin/demo} runs: the unmodified {@link demo.app.TileCache} twice, without and with the jvmem agent, then
 * a few plain lines saying what happened, read from the agent's report of the second run. The report itself stays in
 * its file, for tools.
 *
 * <p>Usage: {@code java -cp demo/target/classes demo.Demo <jvmem-agent.jar> <config>}; the child JVMs are this JVM's
 * {@code java}. The report's path is the config's {@code report} key (relative paths against the working directory,
 * as the agent resolves them). Exit code 0 when both runs succeeded and wrote the same output.
 */
public final class Demo {
    private static final String PROGRAM = "demo.app.TileCache";

    private Demo() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: java -cp demo/target/classes demo.Demo <jvmem-agent.jar> <config.properties>");
            System.exit(2);
        }
        String agent = args[0];
        Path config = Path.of(args[1]);
        Properties props = properties(config);
        Path report = reportPath(config, props);
        // The same memory budget for both runs: the JDK's direct memory is capped at the pool's size, so both runs wait
        // for the garbage collector to reclaim dropped buffers when it runs out (by default the JDK's cap is the heap's).
        String cap = onePoolSize(props);
        Files.createDirectories(report.toAbsolutePath().getParent());
        Files.deleteIfExists(report);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // The program's classes only: the demo's own runner also has the allocator jar (for its JSON reader).
        String classes = Path.of(Demo.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();

        List<String> plainCommand = new java.util.ArrayList<>(List.of(java));
        String capped = "";
        if (cap != null) {
            plainCommand.add("-XX:MaxDirectMemorySize=" + cap);
            capped = " (-XX:MaxDirectMemorySize=" + cap + ", the pool's size)";
        }
        plainCommand.addAll(List.of("-cp", classes, PROGRAM));
        System.out.println("== 1/2  " + PROGRAM + " without the agent: its direct buffers come from the JDK's memory" + capped);
        Run plain = run(plainCommand);
        String agentArg = "-javaagent:" + agent + "=" + config;
        System.out.println("== 2/2  the same program with " + agentArg);
        Run routed = run(List.of(java, "--enable-native-access=ALL-UNNAMED", agentArg, "-cp", classes, PROGRAM));
        System.out.println();
        if (plain.exit != 0 || routed.exit != 0) {
            System.out.println("The demo failed: exit code " + plain.exit + " without the agent, " + routed.exit
                    + " with it (its messages are above).");
            System.exit(1);
        }
        if (!Files.isRegularFile(report)) {
            System.out.println("The agent wrote no report at " + report + " (its messages are above).");
            System.exit(1);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> r = (Map<String, Object>) io.jvmem.allocator.Json.parse(Files.readString(report, StandardCharsets.UTF_8));
        boolean same = plain.out.equals(routed.out);
        System.out.print(summary(r, plain, routed, same, report));
        System.exit(same ? 0 : 1);
    }

    private record Run(int exit, String out, long millis) {
    }

    /** Runs a child JVM: its output is shown as it comes and kept; its errors go straight to ours. */
    private static Run run(List<String> command) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT)
                .redirectInput(ProcessBuilder.Redirect.INHERIT).start();
        StringBuilder out = new StringBuilder();
        try (InputStream in = p.getInputStream()) {
            byte[] buf = new byte[8192];
            for (int n; (n = in.read(buf)) > 0; ) {
                System.out.write(buf, 0, n);
                System.out.flush();
                out.append(new String(buf, 0, n, StandardCharsets.UTF_8));
            }
        }
        int exit = p.waitFor();
        return new Run(exit, out.toString(), (System.nanoTime() - t0) / 1_000_000);
    }

    /** The config, read as the agent reads it (java.util.Properties, UTF-8). */
    static Properties properties(Path config) throws IOException {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(config, StandardCharsets.UTF_8)) {
            p.load(in);
        }
        return p;
    }

    /** The size of the config's only pool, as written ({@code 256m}: the JVM reads the same suffixes), or null. */
    static String onePoolSize(Properties p) {
        List<String> sizes = p.stringPropertyNames().stream().filter(k -> k.startsWith("pool.") && k.endsWith(".size"))
                .map(k -> p.getProperty(k).strip()).toList();
        return sizes.size() == 1 && sizes.get(0).matches("[0-9]+[kKmMgGtT]?") ? sizes.get(0) : null;
    }

    /** The config's {@code report} key. */
    static Path reportPath(Path config, Properties p) {
        String report = p.getProperty("report", "").strip();
        if (report.isEmpty()) {
            throw new IllegalArgumentException(config + " has no report key: the demo reads the agent's report");
        }
        return Path.of(report);
    }

    /** The closing lines, every figure taken from the report {@code r}. */
    @SuppressWarnings("unchecked")
    static String summary(Map<String, Object> r, Run plain, Run routed, boolean same, Path report) {
        StringBuilder b = new StringBuilder("== What happened\n");
        List<Map<String, Object>> pools = (List<Map<String, Object>>) r.get("pools");
        List<Map<String, Object>> routes = (List<Map<String, Object>>) r.get("routes");
        List<Map<String, Object>> sites = (List<Map<String, Object>>) r.get("sites");
        Map<String, Object> agent = (Map<String, Object>) r.get("agent");

        b.append(String.format(Locale.ROOT, "Ran       %s twice, unmodified: %.1f s without the agent, %.1f s with it; %s%n",
                PROGRAM, plain.millis / 1000.0, routed.millis / 1000.0,
                same ? "the same output both times." : "DIFFERENT OUTPUT (a bug: please report it)."));

        long rewritten = n(agent, "classesRewritten");
        b.append("Routed    ").append(count(sites.size(), "call site")).append(" in ").append(count(rewritten, "rewritten class"))
                .append(sites.isEmpty() ? "." : ":").append('\n');
        for (Map<String, Object> s : sites) {
            b.append(String.format(Locale.ROOT, "            %s  %s  route %s: %s, %s%n", s.get("site"), s.get("call"),
                    s.get("route"), count(n(s, "allocations"), "allocation"), mib(n(s, "bytes"))));
        }

        for (Map<String, Object> p : pools) {
            b.append(String.format(Locale.ROOT, "Pool      %s (%s, in %s, %s of which %s usable): %s in use at exit, %s at the peak.%n",
                    p.get("name"), p.get("kind"), p.get("path"), mib(n(p, "size")), mib(n(p, "usable")),
                    mib(n(p, "inUse")), mib(n(p, "peakInUse"))));
        }
        b.append("          (In use counts dropped buffers until the garbage collector reclaims them, as the JDK's direct "
                + "memory does.)\n");

        for (Map<String, Object> route : routes) {
            String name = (String) route.get("name");
            long fallbacks = n(route, "fallbacks");
            if (fallbacks == 0) {
                b.append("Fallback  none on route ").append(name).append(": pool ").append(route.get("pool"))
                        .append(" served every request.\n");
            } else {
                b.append(String.format(Locale.ROOT, "Fallback  route %s: %s (%s) went to the JDK's memory instead, because the pool was:%n",
                        name, count(fallbacks, "request"), mib(n(route, "fallbackBytes"))));
                Map<String, Object> reasons = (Map<String, Object>) route.get("fallbackReasons");
                for (Map.Entry<String, Object> e : reasons.entrySet()) {
                    Map<String, Object> v = (Map<String, Object>) e.getValue();
                    if (n(v, "requests") > 0) {
                        b.append(String.format(Locale.ROOT, "            %s: %s (%s): %s%n", e.getKey(),
                                count(n(v, "requests"), "request"), mib(n(v, "bytes")), why(e.getKey())));
                    }
                }
            }
            if (n(route, "failures") > 0) {
                b.append("Failed    route ").append(name).append(": ").append(count(n(route, "failures"), "request"))
                        .append(" refused with OutOfMemoryError (on-exhausted=fail).\n");
            }
            for (Object u : (List<Object>) route.get("unrouted")) {
                Map<String, Object> m = (Map<String, Object>) u;
                b.append("Unrouted  route ").append(name).append(": ").append(m.get("where")).append('\n');
            }
        }
        if (n(agent, "rewriteFailures") > 0 || n(agent, "releaseErrors") > 0) {
            b.append("Problems  ").append(count(n(agent, "rewriteFailures"), "class")).append(" failed to rewrite, ")
                    .append(count(n(agent, "releaseErrors"), "release error")).append(" (the agent's messages are above).\n");
        }
        b.append("Report    ").append(report).append(": every figure as JSON, for tools; README.md (\"The report\") "
                + "explains each field.\n");
        return b.toString();
    }

    private static String why(String reason) {
        return switch (reason) {
            case "afterReclaim" -> "full even after waiting for the garbage collector to return dropped buffers";
            case "backedOff" -> "full of live data, so the agent did not wait for a collection again yet";
            case "notReclaimable" -> "full of Unsafe or libc memory, which only the program frees";
            case "fileSystemFull" -> "its file system had no more room";
            default -> "see README.md, \"The report\"";
        };
    }

    private static long n(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof Long l)) {
            throw new IllegalArgumentException("report field " + key + " is not a number: " + m);
        }
        return l;
    }

    static String count(long n, String what) {
        String plural = what.endsWith("ss") ? what + "es" : what + "s";
        return String.format(Locale.ROOT, "%,d %s", n, n == 1 ? what : plural);
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%,.1f MiB", bytes / 1048576.0);
    }
}
