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
 * run of each. Two reference agents ({@link io.jvmem.bench.startup.FloorAgent}) run in the same alternation: one that
 * installs a transformer and does nothing (the JVM's price for any agent), and the floor of an agent built like jvmem's
 * (an FFM-mapped 64 MiB file and an ASM pass over each application class). Every variant gets the same JVM flags apart
 * from {@code -javaagent}.
 *
 * <p>Usage: {@code StartupTimer <out.json> <runs> <classpath> <agent jar>=<config> [<the config's report file>]}: with
 * a report file, the run fails unless the agent's report shows Hello's allocation routed to the pool. The agent runs
 * twice in each round: with the config as given, and with a copy without its {@code report} key (the issue's
 * configuration of one pool and one route; the report written at exit is an option, and its cost is an exit cost).
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
        String floorJar = floorAgentJar(out);
        List<String> anyAgent = new ArrayList<>(base);
        anyAgent.addAll(List.of("-javaagent:" + floorJar + "=transformer", "-cp", cp, "io.jvmem.bench.routed.Hello"));
        List<String> floor = new ArrayList<>(base);
        floor.addAll(List.of("-javaagent:" + floorJar + "=floor", "-cp", cp, "io.jvmem.bench.routed.Hello"));
        List<String> withNoReport = new ArrayList<>(base);
        withNoReport.addAll(List.of("-javaagent:" + withoutReport(agent, out), "-cp", cp, "io.jvmem.bench.routed.Hello"));
        List<List<String>> variants = List.of(without, anyAgent, floor, with, withNoReport);
        for (List<String> v : variants) {
            time(v);
        }
        double[][] ms = new double[variants.size()][runs];
        for (int i = 0; i < runs; i++) {
            for (int k = 0; k < variants.size(); k++) {
                ms[k][i] = time(variants.get(k));
            }
        }
        if (args.length > 4) {
            checkRouted(Path.of(args[4]));
        }
        String phases = phases(base, agent, cp, out, Math.min(runs, PHASE_RUNS));
        String json = String.format(Locale.ROOT, "{\"runs\": %d, \"withoutMs\": %s, \"anyAgentMs\": %s, \"floorMs\": %s, "
                        + "\"withMs\": %s, \"withNoReportMs\": %s, \"withoutMedianMs\": %.1f, \"anyAgentMedianMs\": %.1f, "
                        + "\"floorMedianMs\": %.1f, \"withMedianMs\": %.1f, \"withNoReportMedianMs\": %.1f, "
                        + "\"loadAverage\": \"%s\", \"phasesMs\": %s, \"command\": \"%s\"}%n", runs,
                Arrays.toString(ms[0]), Arrays.toString(ms[1]), Arrays.toString(ms[2]), Arrays.toString(ms[3]),
                Arrays.toString(ms[4]), median(ms[0]), median(ms[1]), median(ms[2]), median(ms[3]), median(ms[4]),
                loadAverage(), phases,
                String.join(" ", with).replace("\\", "\\\\").replace("\"", "\\\""));
        Files.writeString(out, json);
        System.out.print(json);
    }

    /**
     * {@code agent} ({@code <jar>=<config>}) with a copy of the config without its {@code report} key, next to
     * {@code out}: the configuration (one pool, one route), which writes nothing at exit.
     */
    static String withoutReport(String agent, Path out) throws java.io.IOException {
        return configCopy(agent, out, "startup-noreport.properties", "report");
    }

    /**
     * {@code agent} ({@code <jar>=<config>}) with a copy of its config, named {@code name} next to {@code out}, without
     * the key {@code drop} and with {@code added} lines at the end.
     */
    private static String configCopy(String agent, Path out, String name, String drop, String... added)
            throws java.io.IOException {
        int eq = agent.indexOf('=');
        List<String> lines = new ArrayList<>(Files.readAllLines(Path.of(agent.substring(eq + 1))));
        lines.removeIf(l -> l.strip().startsWith(drop) && l.strip().substring(drop.length()).strip().startsWith("="));
        lines.addAll(List.of(added));
        Path config = out.toAbsolutePath().resolveSibling(name);
        Files.write(config, lines);
        return agent.substring(0, eq) + "=" + config;
    }

    /**
     * Medians of the agent's phases over {@code n} runs with the config at {@code log=info}, as a JSON object (in
     * {@link #PHASES} order), or {@code null} when the agent printed no start line.
     */
    static String phases(List<String> base, String agent, String cp, Path out, int n) throws Exception {
        List<String> command = new ArrayList<>(base);
        command.addAll(List.of("-javaagent:" + configCopy(agent, out, "startup-info.properties", "log", "log=info"), "-cp", cp,
                "io.jvmem.bench.routed.Hello"));
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

    /**
     * The reference agents' jar ({@link io.jvmem.bench.startup.FloorAgent} and the ASM it uses), written next to
     * {@code out} from this class path: the bench's own jar is not built yet when its smoke test runs.
     */
    static String floorAgentJar(Path out) throws Exception {
        Path jar = out.toAbsolutePath().resolveSibling("startup-floor-agent.jar");
        java.util.jar.Manifest mf = new java.util.jar.Manifest();
        mf.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().putValue("Premain-Class", io.jvmem.bench.startup.FloorAgent.class.getName());
        mf.getMainAttributes().putValue("Can-Retransform-Classes", "true");
        try (java.util.jar.JarOutputStream j = new java.util.jar.JarOutputStream(Files.newOutputStream(jar), mf)) {
            copyPackage(j, io.jvmem.bench.startup.FloorAgent.class);
            copyPackage(j, org.objectweb.asm.ClassReader.class);
        }
        return jar.toString();
    }

    /** Every class file of {@code c}'s package, from the directory or jar {@code c} was loaded from. */
    private static void copyPackage(java.util.jar.JarOutputStream j, Class<?> c) throws Exception {
        String dir = c.getPackageName().replace('.', '/') + "/";
        Path from = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
        if (Files.isDirectory(from)) {
            try (var files = Files.list(from.resolve(dir))) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    if (f.toString().endsWith(".class")) {
                        j.putNextEntry(new java.util.zip.ZipEntry(dir + f.getFileName()));
                        j.write(Files.readAllBytes(f));
                    }
                }
            }
            return;
        }
        try (java.util.jar.JarFile in = new java.util.jar.JarFile(from.toFile())) {
            for (var e : (Iterable<java.util.jar.JarEntry>) in.stream()::iterator) {
                String n = e.getName();
                if (n.startsWith(dir) && n.indexOf('/', dir.length()) < 0 && n.endsWith(".class")) {
                    j.putNextEntry(new java.util.zip.ZipEntry(n));
                    try (var is = in.getInputStream(e)) {
                        j.write(is.readAllBytes());
                    }
                }
            }
        }
    }

    /** The 1-, 5- and 15-minute load averages as /proc/loadavg gives them, or "unknown". */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (java.io.IOException | RuntimeException e) {
            return "unknown";
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
