package io.jvmem.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Start-up cost of the agent: wall time of a whole {@code java} process running {@link io.jvmem.bench.routed.Hello}
 * (hello world with one allocateDirect) with the agent and one route, and without, alternating, after one untimed
 * run of each. Both variants get the same JVM flags apart from {@code -javaagent}.
 *
 * <p>Usage: {@code StartupTimer <out.json> <runs> <classpath> <agent jar>=<config> [<the config's report file>]}: with
 * a report file, the run fails unless the agent's report shows Hello's allocation routed to the pool.
 *
 * <p>After the timed runs, up to {@value #PHASE_RUNS} more with-agent runs use a copy of the config with {@code log=info},
 * whose start line gives the agent's own phases (premain total, config and bridge, pools, hooks, retransform); their
 * medians go into the JSON as {@code phasesMs}.
 */
public final class StartupTimer {
    static final int PHASE_RUNS = 5;
    /** The agent's start line at log=info: {@code jvmem: started: ... in T ms (config and bridge A, pools B, ...)}. */
    private static final java.util.regex.Pattern STARTED = java.util.regex.Pattern.compile(
            "in (\\d+) ms \\(config and bridge (\\d+), pools (\\d+), hooks (\\d+), retransform (\\d+)\\)");
    static final String[] PHASES = {"premain", "configAndBridge", "pools", "hooks", "retransform"};

    private StartupTimer() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int runs = Integer.parseInt(args[1]);
        String cp = args[2];
        String agent = args[3];
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> base = List.of(java, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xshare:auto");
        List<String> without = new ArrayList<>(base);
        without.addAll(List.of("-cp", cp, "io.jvmem.bench.routed.Hello"));
        List<String> with = new ArrayList<>(base);
        with.addAll(List.of("-javaagent:" + agent, "-cp", cp, "io.jvmem.bench.routed.Hello"));
        time(without);
        time(with);
        double[] a = new double[runs];
        double[] b = new double[runs];
        for (int i = 0; i < runs; i++) {
            a[i] = time(without);
            b[i] = time(with);
        }
        if (args.length > 4) {
            checkRouted(Path.of(args[4]));
        }
        String phases = phases(base, agent, cp, out, Math.min(runs, PHASE_RUNS));
        String json = String.format(Locale.ROOT, "{\"runs\": %d, \"withoutMs\": %s, \"withMs\": %s, \"withoutMedianMs\": %.1f, "
                        + "\"withMedianMs\": %.1f, \"phasesMs\": %s, \"command\": \"%s\"}%n", runs, Arrays.toString(a),
                Arrays.toString(b), median(a), median(b), phases,
                String.join(" ", with).replace("\\", "\\\\").replace("\"", "\\\""));
        Files.writeString(out, json);
        System.out.print(json);
    }

    /**
     * Medians of the agent's phases over {@code n} runs with the config at {@code log=info}, as a JSON object (in
     * {@link #PHASES} order), or {@code null} when the agent printed no start line.
     */
    static String phases(List<String> base, String agent, String cp, Path out, int n) throws Exception {
        int eq = agent.indexOf('=');
        Path config = Path.of(agent.substring(eq + 1));
        List<String> lines = new ArrayList<>(Files.readAllLines(config));
        lines.removeIf(l -> l.strip().startsWith("log") && l.strip().substring(3).strip().startsWith("="));
        lines.add("log=info");
        Path info = out.toAbsolutePath().resolveSibling("startup-info.properties");
        Files.write(info, lines);
        List<String> command = new ArrayList<>(base);
        command.addAll(List.of("-javaagent:" + agent.substring(0, eq) + "=" + info, "-cp", cp, "io.jvmem.bench.routed.Hello"));
        double[][] ms = new double[PHASES.length][n];
        for (int i = 0; i < n; i++) {
            Process p = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            String err = new String(p.getErrorStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new IllegalStateException("exit " + p.exitValue() + ": " + String.join(" ", command) + "\n" + err);
            }
            java.util.regex.Matcher m = STARTED.matcher(err);
            if (!m.find()) {
                return "null";
            }
            for (int k = 0; k < PHASES.length; k++) {
                ms[k][i] = Double.parseDouble(m.group(k + 1));
            }
        }
        StringBuilder b = new StringBuilder("{");
        for (int k = 0; k < PHASES.length; k++) {
            b.append(k == 0 ? "" : ", ").append('"').append(PHASES[k]).append("\": ")
                    .append(String.format(Locale.ROOT, "%.1f", median(ms[k])));
        }
        return b.append(", \"runs\": ").append(n).append('}').toString();
    }

    @SuppressWarnings("unchecked")
    static void checkRouted(Path report) throws java.io.IOException {
        Map<String, Object> r = (Map<String, Object>) io.jvmem.allocator.Json.parse(Files.readString(report));
        double allocations = 0;
        for (Object route : (List<Object>) r.get("routes")) {
            allocations += ((Number) ((Map<String, Object>) route).get("allocations")).doubleValue();
        }
        if (allocations < 1) {
            throw new IllegalStateException("the agent ran but routed nothing (report " + report + "): Hello's allocateDirect was not rewritten");
        }
    }

    static double time(List<String> command) throws Exception {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        int rc = p.waitFor();
        double ms = (System.nanoTime() - t0) / 1e6;
        if (rc != 0) {
            throw new IllegalStateException("exit " + rc + ": " + String.join(" ", command));
        }
        return Math.round(ms * 10) / 10.0;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
