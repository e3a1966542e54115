package io.jvmem.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The reliability workloads of direct buffers that only the garbage collector releases, each in a fresh JVM running
 * {@link sample.reclaim.DropLoop} under the agent jar (or under the JDK alone, for comparison):
 * <ul>
 *   <li>case 7: {@code threads} threads allocate 1 MiB buffers and drop them for 5 s, 128 MiB pool,
 *       {@code on-exhausted=fail}; counts OutOfMemoryErrors. The JDK variant runs with
 *       {@code -XX:MaxDirectMemorySize=128m}.</li>
 *   <li>case 8: one thread allocates and drops 20,000 buffers of 64 KiB, 64 MiB pool, {@code on-exhausted=fallback};
 *       counts the requests that fell back to the JDK (from the agent's report).</li>
 * </ul>
 * {@code ReclaimStressIT} runs a few of them; {@code bench/reclaim-stress} runs {@link #main} for the figures:
 * {@code ReclaimStress <agent jar> <runs of case 7> [threads...]}.
 */
final class ReclaimStress {
    static final int CASE7_SECONDS = 5;
    static final int CASE7_BYTES = 1 << 20;
    static final String CASE7_POOL = "128m";
    static final int CASE8_COUNT = 20_000;
    static final int CASE8_BYTES = 64 << 10;
    static final String CASE8_POOL = "64m";

    private ReclaimStress() {
    }

    /** One forked run: the program's counts (-1 if it printed none), exit code, stderr and the report, if any. */
    record Run(int exit, long allocations, long ooms, List<String> err, String report) {
        /** The route's fallbacks from the report, or -1. */
        long fallbacks() {
            return number("fallbacks");
        }

        long fallbackBytes() {
            return number("fallbackBytes");
        }

        private long number(String field) {
            Matcher m = Pattern.compile("\"" + field + "\": (\\d+)").matcher(report == null ? "" : report);
            return m.find() ? Long.parseLong(m.group(1)) : -1;
        }

        @Override
        public String toString() {
            return "exit " + exit + ", allocations " + allocations + ", OutOfMemoryErrors " + ooms + ", stderr " + err;
        }
    }

    /** Case 7 under the agent: {@code threads} threads, 1 MiB buffers, 5 s, 128 MiB pool, on-exhausted=fail. */
    static Run case7(Path agentJar, Path dir, int threads) throws IOException, InterruptedException {
        Path config = config(dir, "case7", CASE7_POOL, "fail");
        return java(dir, List.of("-javaagent:" + agentJar + "=" + config), "threads", Integer.toString(threads),
                Integer.toString(CASE7_SECONDS), Integer.toString(CASE7_BYTES));
    }

    /** Case 7 under the JDK alone, with the same limit as the pool: {@code -XX:MaxDirectMemorySize=128m}. */
    static Run case7Jdk(Path dir, int threads) throws IOException, InterruptedException {
        return java(dir, List.of("-XX:MaxDirectMemorySize=" + CASE7_POOL), "threads", Integer.toString(threads),
                Integer.toString(CASE7_SECONDS), Integer.toString(CASE7_BYTES));
    }

    /** Case 8 under the agent: 20,000 × 64 KiB buffers in a loop, 64 MiB pool, on-exhausted=fallback. */
    static Run case8(Path agentJar, Path dir) throws IOException, InterruptedException {
        Path config = config(dir, "case8", CASE8_POOL, "fallback");
        return java(dir, List.of("-javaagent:" + agentJar + "=" + config), "loop", Integer.toString(CASE8_COUNT),
                Integer.toString(CASE8_BYTES));
    }

    private static Path config(Path dir, String name, String poolSize, String onExhausted) throws IOException {
        Path report = dir.resolve(name + "-report.json");
        Files.deleteIfExists(report);
        Path config = dir.resolve(name + ".properties");
        Files.write(config, List.of("pool.main.size=" + poolSize, "route.r.include=sample.reclaim", "route.r.pool=main",
                "route.r.on-exhausted=" + onExhausted, "report=" + report));
        return config;
    }

    private static Run java(Path dir, List<String> flags, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(flags);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "sample.reclaim.DropLoop"));
        cmd.addAll(List.of(args));
        Path out = dir.resolve("stdout.txt");
        Path err = dir.resolve("stderr.txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("no end after 120 s: " + cmd);
        }
        String stdout = Files.readString(out, StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("allocations=(\\d+) oom=(\\d+)").matcher(stdout);
        boolean found = m.find();
        String config = flags.get(0).startsWith("-javaagent:") ? flags.get(0).substring(flags.get(0).indexOf('=') + 1) : null;
        String report = null;
        if (config != null) {
            Path r = Path.of(config).resolveSibling(Path.of(config).getFileName().toString().replace(".properties", "-report.json"));
            report = Files.exists(r) ? Files.readString(r, StandardCharsets.UTF_8) : null;
        }
        return new Run(p.exitValue(), found ? Long.parseLong(m.group(1)) : -1, found ? Long.parseLong(m.group(2)) : -1,
                Files.readAllLines(err, StandardCharsets.UTF_8), report);
    }

    /**
     * {@code ReclaimStress <agent jar> <runs> [threads...]}: case 7 {@code runs} times per thread count (default 40
     * and 8) under the agent and under the JDK alone, then case 8 once; prints every run and the totals.
     */
    public static void main(String[] args) throws Exception {
        Path jar = Path.of(args[0]).toAbsolutePath();
        int runs = Integer.parseInt(args[1]);
        List<Integer> threads = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            threads.add(Integer.parseInt(args[i]));
        }
        if (threads.isEmpty()) {
            threads = List.of(40, 8);
        }
        Path dir = Files.createTempDirectory("jvmem-reclaim-stress");
        List<String> totals = new ArrayList<>();
        for (int t : threads) {
            for (String variant : List.of("agent", "jdk")) {
                int failedRuns = 0;
                long ooms = 0;
                long allocations = 0;
                for (int i = 1; i <= runs; i++) {
                    Run r = variant.equals("agent") ? case7(jar, dir, t) : case7Jdk(dir, t);
                    System.out.printf(Locale.ROOT, "case 7, %s, %d threads, run %d: %s%n", variant, t, i, r);
                    failedRuns += r.ooms() != 0 || r.exit() != 0 ? 1 : 0;
                    ooms += Math.max(0, r.ooms());
                    allocations += Math.max(0, r.allocations());
                }
                totals.add(String.format(Locale.ROOT, "case 7, %-5s %2d threads: %d of %d runs had an OutOfMemoryError "
                        + "(%d in all); %d buffers allocated per run on average", variant + ",", t, failedRuns, runs, ooms,
                        allocations / runs));
            }
        }
        Run r = case8(jar, dir);
        System.out.println("case 8: " + r);
        totals.add(String.format(Locale.ROOT, "case 8: %d of %d requests (%d bytes) fell back to the JDK: %.3f%%",
                r.fallbacks(), CASE8_COUNT, r.fallbackBytes(), 100.0 * r.fallbacks() / CASE8_COUNT));
        System.out.println();
        totals.forEach(System.out::println);
    }
}
