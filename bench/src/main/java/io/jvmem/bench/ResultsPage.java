package io.jvmem.bench;

import static io.jvmem.bench.Format.fill;
import static io.jvmem.bench.Format.fmt;
import static io.jvmem.bench.Format.gb;
import static io.jvmem.bench.Format.human;
import static io.jvmem.bench.Format.ratio;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes bench/RESULTS.md from the result files of one run (JMH JSON, plus the JSON of the start-up and end-to-end
 * harnesses): the machine, the JDK, the flags, every table with its error bars, SVG charts in {@code charts/} next
 * to the page, and each target of the issues as met or not met with the measured ratio.
 *
 * <p>Usage: {@code ResultsPage <results-dir> <RESULTS.md> <command line that produced the run>}
 */
public final class ResultsPage {
    private static final String[] SIZES = {"64", "4096", "65536", "1048576"};

    /** One line of the summary: met is null when the suite did not run or the row has no target. */
    record Target(String area, String target, String measured, Boolean met) {
    }

    private final Path dir;
    private final Path charts;
    private final List<Target> targets = new ArrayList<>();

    private ResultsPage(Path dir, Path charts) {
        this.dir = dir;
        this.charts = charts;
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        Path out = Path.of(args[1]).toAbsolutePath();
        String command = args.length > 2 ? args[2] : "bench/run";
        ResultsPage page = new ResultsPage(dir, out.getParent().resolve("charts"));
        StringBuilder body = new StringBuilder();
        List<Results> m1 = Results.read(dir.resolve("malloc-1t.json"));
        List<Results> m2 = Results.read(dir.resolve("malloc-2t.json"));
        List<Results> agentPool = Results.read(dir.resolve("agent-pool.json"));
        List<Results> agentJdk = Results.read(dir.resolve("agent-jdk.json"));
        mallocSection(body, m1, m2, page.targets);
        page.agentSection(body, m1, agentPool, agentJdk);
        StartupSection.write(body, dir, page.targets);
        ReachSection.write(body, dir, page.targets);
        ObservabilitySection.write(body, dir);
        page.ctoSection(body);
        page.accessSection(body);
        page.endToEndSection(body);
        page.h2Section(body);
        body.append(DAX_SECTION);

        StringBuilder md = new StringBuilder();
        md.append("# jvmem benchmark results\n\n");
        md.append("Written by `").append(command).append("` on ").append(LocalDate.now()).append(". Regenerate with the same command; ")
                .append("numbers are JMH averages with the 99.9% confidence half-width (±). The machines are shared and noisy: read ")
                .append("the ratios against the baseline measured in the same run, not the absolute times. GB/s means 10^9 bytes per second.\n\n");
        if (command.contains("smoke")) {
            md.append("> **Smoke run**: every benchmark ran once, briefly, without warm-up, to check that it works. The numbers ")
                    .append("below are not measurements; `met` / `not met` mean nothing here.\n\n");
        }
        Path failed = dir.resolve("failed.txt");
        if (Files.exists(failed) && !Files.readString(failed).isBlank()) {
            md.append("**Failed suites** (their sections read \"not run\"; logs `<suite>.log` in the results directory): ")
                    .append(String.join(", ", Files.readAllLines(failed).stream().filter(l -> !l.isBlank()).toList())).append(".\n\n");
        }
        md.append(page.summary());
        md.append(machine()).append('\n');
        md.append(flags(dir));
        md.append(body);
        Files.writeString(out, md.toString());
        System.out.println("wrote " + out);
    }

    // ---------------------------------------------------------------------------------------------------- summary

    private String summary() {
        StringBuilder b = new StringBuilder("## Targets\n\n");
        b.append("Every target of the issues, judged on the point estimates of this run (the tables below give the error bars).\n\n");
        b.append("| area | target | measured | result |\n|---|---|---|---|\n");
        for (Target t : targets) {
            String r = t.met() == null ? (t.measured().equals("not run") ? "not run" : "reported") : t.met() ? "**met**" : "**not met**";
            b.append("| ").append(t.area()).append(" | ").append(t.target()).append(" | ").append(t.measured()).append(" | ").append(r).append(" |\n");
        }
        return b.append('\n').toString();
    }

    private static String flags(Path dir) throws IOException {
        Path f = dir.resolve("flags.txt");
        if (!Files.exists(f)) {
            return "";
        }
        StringBuilder b = new StringBuilder("## Options\n\nJMH options and JVM flags per suite (from `flags.txt` of the run):\n\n");
        for (String line : Files.readAllLines(f)) {
            if (!line.isBlank()) {
                int c = line.indexOf(": ");
                b.append(c > 0 ? "- " + line.substring(0, c) + ": `" + line.substring(c + 2) + "`\n" : "- `" + line + "`\n");
            }
        }
        return b.append('\n').toString();
    }

    static String machine() throws IOException {
        String cpu = "unknown CPU";
        Path info = Path.of("/proc/cpuinfo");
        if (Files.exists(info)) {
            for (String line : Files.readAllLines(info)) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        }
        long mem = 0;
        Path meminfo = Path.of("/proc/meminfo");
        if (Files.exists(meminfo)) {
            for (String line : Files.readAllLines(meminfo)) {
                if (line.startsWith("MemTotal:")) {
                    mem = Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024 / 1024;
                }
            }
        }
        String thp = "unknown";
        Path thpFile = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
        if (Files.isReadable(thpFile)) {
            thp = Files.readString(thpFile).trim();
        }
        return "## Machine\n\n| | |\n|---|---|\n"
                + "| CPU | " + cpu + " |\n"
                + "| cores | " + Runtime.getRuntime().availableProcessors() + " |\n"
                + "| memory | " + mem + " GiB |\n"
                + "| OS | " + System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch") + " |\n"
                + "| JDK | " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version") + " |\n"
                + "| pool backing | tmpfs (/dev/shm) unless a section says otherwise |\n"
                + "| java.io.tmpdir | " + tmpdir() + " |\n"
                + "| transparent huge pages | " + thp + " |\n";
    }

    static String tmpdir() {
        Path t = Path.of(System.getProperty("java.io.tmpdir"));
        try {
            return t + " (" + Files.getFileStore(t).type() + ")";
        } catch (IOException e) {
            return t.toString();
        }
    }

    // ------------------------------------------------------------------------------------------------- allocation

    private static void mallocSection(StringBuilder md, List<Results> one, List<Results> two, List<Target> targets) {
        md.append("## Allocation: pool malloc+free vs Unsafe.allocateMemory+freeMemory\n\n");
        if (one.isEmpty()) {
            md.append("_not run_\n\n");
            targets.add(new Target("allocator", "pair ≤ 0.5× Unsafe up to 64 KiB", "not run", null));
            targets.add(new Target("allocator", "pair ≤ 1× Unsafe at 1 MiB", "not run", null));
            targets.add(new Target("allocator", "2 threads ≥ 1.7× one thread at 4 KiB", "not run", null));
            return;
        }
        md.append("`MallocFreeBenchmark`: one malloc and one free of the same size per operation, ns per pair (lower is better). ")
                .append("The baseline is glibc malloc through `sun.misc.Unsafe`, in the same JVM fork. **Typed** is the pair ")
                .append("the agent's arena call sites make (`MemoryPool.typed(tag)`): the same blocks, also counted under the ")
                .append("site's tag (requests, bytes, in use, high-water mark); the difference is the cost of those counters.\n\n");
        md.append("| size | threads | pool (ns) | typed (ns) | Unsafe (ns) | pool / Unsafe | target | met |\n"
                + "|---:|---:|---:|---:|---:|---:|---|---|\n");
        for (List<Results> rows : List.of(one, two)) {
            for (String size : SIZES) {
                Results p = Results.find(rows, "poolMallocFree", "size", size);
                Results u = Results.find(rows, "unsafeAllocateFree", "size", size);
                if (p == null || u == null) {
                    continue;
                }
                double ratio = p.score() / u.score();
                boolean oneThread = p.threads() == 1;
                boolean big = size.equals("1048576");
                double limit = big ? 1.0 : 0.5;
                String target = !oneThread ? "(reference)" : big ? "≤ 1.0×" : "≤ 0.5×";
                String met = !oneThread ? "" : (ratio <= limit ? "**met**" : "**not met**");
                Results t = Results.find(rows, "poolTypedMallocFree", "size", size);
                md.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %s | %s | %s |%n", human(size), p.threads(),
                        p.formatted(), t == null ? "–" : t.formatted(), u.formatted(), ratio(p, u), target, met));
                if (oneThread) {
                    targets.add(new Target("allocator", "pair ≤ " + (big ? "1" : "0.5") + "× Unsafe at " + human(size),
                            String.format(Locale.ROOT, "%.2f×", ratio), ratio <= limit));
                }
            }
        }
        Results p1 = Results.find(one, "poolMallocFree", "size", "4096");
        Results p2 = Results.find(two, "poolMallocFree", "size", "4096");
        if (p1 != null && p2 != null) {
            // average time per op per thread → throughput = threads / time
            double scale = (p2.threads() / p2.score()) / (p1.threads() / p1.score());
            md.append(String.format(Locale.ROOT, "%nTwo-thread scaling at 4 KiB: %.2f× the one-thread throughput (target ≥ 1.7×: %s).%n%n",
                    scale, scale >= 1.7 ? "**met**" : "**not met**"));
            targets.add(new Target("allocator", "2 threads ≥ 1.7× one thread at 4 KiB", String.format(Locale.ROOT, "%.2f×", scale), scale >= 1.7));
        } else {
            md.append('\n');
            targets.add(new Target("allocator", "2 threads ≥ 1.7× one thread at 4 KiB", "not run", null));
        }
    }

    // ------------------------------------------------------------------------------------------------------ agent

    private void agentSection(StringBuilder md, List<Results> malloc, List<Results> pool, List<Results> jdk) throws IOException {
        md.append("## Agent: redirected allocateDirect vs the JDK's, and Netty's pooled allocator\n\n");
        if (pool.isEmpty() && jdk.isEmpty()) {
            md.append("_not run_\n\n");
            targets.add(new Target("agent", "≥ 3× faster than JDK allocateDirect up to 4 KiB", "not run", null));
            targets.add(new Target("agent", "not slower than JDK at 1 MiB", "not run", null));
            return;
        }
        md.append("`AgentAllocateDirectBenchmark`, run twice by bench/run: **pool** = forks started with the agent ")
                .append("(`-javaagent:agent/target/jvmem-agent.jar=bench/target/agent-bench.properties`, one route including ")
                .append("`io.jvmem.bench.routed`, a 256 MiB volatile pool on /dev/shm; each fork checks at setup that its buffers ")
                .append("really come from the pool), **JDK** = the same class without the agent. An operation is ")
                .append("`ByteBuffer.allocateDirect(n)` followed by `Unsafe.invokeCleaner`, ns per operation (lower is better). ")
                .append("**Netty** = `PooledByteBufAllocator.DEFAULT.directBuffer(n)` + `release()` (not routed), what a user ")
                .append("would pick to avoid allocateDirect's cost.\n\n");
        md.append("| size | pool (ns) | JDK (ns) | Netty pooled (ns) | zeroing alone (ns) | buffer + cleaner alone (ns) "
                + "| JDK / pool (speed-up) | target | met |\n|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
        StringBuilder floor = new StringBuilder();
        double[][] chart = new double[5][SIZES.length];
        double[][] chartErr = new double[5][SIZES.length];
        for (int i = 0; i < SIZES.length; i++) {
            String size = SIZES[i];
            Results p = Results.find(pool, "allocateDirectInvokeCleaner", "size", size);
            Results j = Results.find(jdk, "allocateDirectInvokeCleaner", "size", size);
            Results n = Results.find(jdk, "nettyPooledDirectBuffer", "size", size);
            Results z = Results.find(jdk, "zeroFill", "size", size);
            Results w = Results.find(jdk, "wrapperOnly", "size", size);
            Results u = Results.find(malloc, "unsafeAllocateFree", "size", size);
            Results m = Results.find(malloc, "poolMallocFree", "size", size);
            fill(chart, chartErr, 0, i, m);
            fill(chart, chartErr, 1, i, u);
            fill(chart, chartErr, 2, i, p);
            fill(chart, chartErr, 3, i, j);
            fill(chart, chartErr, 4, i, n);
            String target = "";
            String met = "";
            if (size.equals("64") || size.equals("4096")) {
                target = "≥ 3×";
            } else if (size.equals("1048576")) {
                target = "≥ 1× (not slower)";
            }
            if (p != null && j != null && !target.isEmpty()) {
                double speedup = j.score() / p.score();
                boolean ok = speedup >= (target.startsWith("≥ 3") ? 3.0 : 1.0);
                met = ok ? "**met**" : "**not met**";
                // the floor of any allocateDirect: zeroing, plus (where measured) a buffer object with a cleaner
                double floorNs = z == null ? 0 : z.score() + (w == null ? 0 : w.score());
                if (!ok && target.startsWith("≥ 3") && z != null && floorNs > j.score() / 3) {
                    met = "**not met** (unreachable)";
                }
                if (target.startsWith("≥ 3") && z != null) {
                    floor.append(String.format(Locale.ROOT, " At %s: JDK / 3 = %.1f ns, zeroing alone %.1f ns%s.", human(size),
                            j.score() / 3, z.score(), w == null ? ""
                                    : String.format(Locale.ROOT, ", buffer + cleaner alone %.1f ns", w.score())));
                }
                targets.add(new Target("agent", (target.startsWith("≥ 3") ? "≥ 3× faster than JDK allocateDirect" : "not slower than JDK")
                        + " at " + human(size), String.format(Locale.ROOT, "%.2f×", speedup)
                        + (met.contains("unreachable") ? String.format(Locale.ROOT, " (%s %.0f ns > JDK / 3 = %.0f ns)",
                        w == null ? "zeroing alone" : "zeroing + buffer with cleaner", floorNs, j.score() / 3) : ""), ok));
            } else if (!target.isEmpty()) {
                targets.add(new Target("agent", target + " vs JDK allocateDirect at " + human(size), "not run", null));
            }
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |%n", human(size), fmt(p), fmt(j),
                    fmt(n), fmt(z), fmt(w), ratio(j, p), target, met));
        }
        if (floor.length() > 0) {
            md.append("\n**Zeroing alone** (`zeroFill`: `Unsafe.setMemory` of n bytes of DRAM, as the JDK's allocateDirect does) is the floor ")
                    .append("of any allocateDirect, since a new buffer must read as zero. A speed-up of 3× needs a whole ")
                    .append("allocation + release in a third of the JDK's time:").append(floor)
                    .append(" **Buffer + cleaner alone** (`wrapperOnly`: the JDK's mapped-buffer constructor over memory that ")
                    .append("already exists, then invokeCleaner) is the other part every implementation pays: a direct buffer ")
                    .append("whose memory is released when it becomes unreachable needs an object and a cleaner, and the JDK's ")
                    .append("own is the cheapest there is (the agent's buffers use it, so that invokeCleaner releases them from ")
                    .append("every call shape; the JDK's allocateDirect pays it too). Where zeroing and buffer together exceed ")
                    .append("a third of the JDK's time, no implementation that keeps the contract can be 3× faster ")
                    .append("(\"unreachable\" in the table).\n");
        }
        Results pg = Results.find(pool, "allocateDirectGcRelease", null, null);
        Results jg = Results.find(jdk, "allocateDirectGcRelease", null, null);
        md.append(String.format(Locale.ROOT, "%nRelease by the garbage collector (4 KiB buffer dropped, no invokeCleaner): pool %s ns, JDK %s ns, "
                + "JDK / pool %s. The pool variant waits for the collector when its pool is full of unreachable buffers, as "
                + "the JDK does at `-XX:MaxDirectMemorySize`.%n%n", fmt(pg), fmt(jg), ratio(jg, pg)));
        List<String> groups = new ArrayList<>();
        for (String s : SIZES) {
            groups.add(human(s));
        }
        Svg.groupedBars(charts.resolve("allocation.svg"), "Allocation + release cost by size (lower is better)", "ns per operation",
                groups, List.of("pool malloc+free", "Unsafe allocate+free", "allocateDirect, agent → pool", "allocateDirect, JDK",
                        "Netty pooled directBuffer"), chart, chartErr, true);
        md.append("![allocation cost by size](charts/allocation.svg)\n\n");
        Path report = dir.resolve("agent-bench-report.json");
        if (Files.exists(report)) {
            md.append("The agent's report for the pool run (last fork) is `").append(report.getFileName())
                    .append("` in the results directory (bench/target/results).\n\n");
        }
    }

    // -------------------------------------------------------------------------------------------------------- cto

    private void ctoSection(StringBuilder md) throws IOException {
        md.append("## Close-to-open pools\n\n");
        List<Results> rows = Results.read(dir.resolve("cto.json"));
        if (rows.isEmpty()) {
            md.append("_not run_\n\n");
            targets.add(new Target("cto", "malloc+free within 1.2× of a volatile pool", "not run", null));
        } else {
            md.append("`CtoVsVolatileBenchmark`: a malloc+free pair in a close-to-open pool against the same pair in a volatile ")
                    .append("pool, one thread, both 256 MiB in the same new directory under java.io.tmpdir (").append(tmpdir())
                    .append("), ns per pair.\n\n");
            md.append("| size | cto (ns) | volatile (ns) | cto / volatile | target | met |\n|---:|---:|---:|---:|---|---|\n");
            for (String size : new String[] {"64", "4096", "65536"}) {
                Results c = Results.find(rows, "ctoMallocFree", "size", size);
                Results v = Results.find(rows, "volatileMallocFree", "size", size);
                if (c == null || v == null) {
                    continue;
                }
                double r = c.score() / v.score();
                md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | ≤ 1.2× | %s |%n", human(size), c.formatted(), v.formatted(),
                        ratio(c, v), r <= 1.2 ? "**met**" : "**not met**"));
                targets.add(new Target("cto", "malloc+free within 1.2× of volatile at " + human(size), String.format(Locale.ROOT, "%.2f×", r), r <= 1.2));
            }
            md.append('\n');
        }
        List<Results> close = Results.read(dir.resolve("cto-close.json"));
        md.append("### Close time\n\n");
        if (close.isEmpty()) {
            md.append("_not run_\n\n");
            targets.add(new Target("cto", "close time reported", "not run", null));
            return;
        }
        md.append("`CtoCloseBenchmark`: `close()` of a close-to-open pool right after writing into it in 1 MiB blocks (fresh pool ")
                .append("file per iteration, single shot, only close timed: returning cached blocks, msync of the whole file, marking ")
                .append("it consistent). **shm** = pool file on /dev/shm (tmpfs: no device writes); **tmp** = under java.io.tmpdir (")
                .append(tmpdir()).append(": the written data go to the device during close).\n\n");
        md.append("| pool | written | directory | close (ms) |\n|---:|---:|---|---:|\n");
        StringBuilder measured = new StringBuilder();
        for (Results r : close) {
            md.append(String.format(Locale.ROOT, "| %s MiB | %s MiB | %s | %s |%n", r.param("poolMiB"), r.param("writeMiB"), r.param("dir"), r.formatted()));
            measured.append(measured.isEmpty() ? "" : ", ").append(r.param("dir")).append(String.format(Locale.ROOT, " %.0f ms", r.score()));
        }
        md.append('\n');
        Results first = close.get(0);
        targets.add(new Target("cto", "close time of a " + human(String.valueOf(Long.parseLong(first.param("poolMiB")) << 20)) + " pool after writing "
                + first.param("writeMiB") + " MiB (reported, no target)", measured.toString(), null));
    }

    // ----------------------------------------------------------------------------------------------------- access

    private void accessSection(StringBuilder md) throws IOException {
        md.append("## Memory access: pool vs DRAM vs heap\n\n");
        List<Results> rows = Results.read(dir.resolve("access.json"));
        String[] kinds = {"pool", "dram", "heap"};
        String[] labels = {"pool (/dev/shm)", "DRAM (Arena.ofShared)", "heap long[]"};
        String[] ops = {"sequentialWrite", "sequentialRead", "random64ByteRead"};
        String[] opLabels = {"sequential write", "sequential read", "random 64 B reads"};
        if (rows.isEmpty()) {
            md.append("_not run_\n\n");
            targets.add(new Target("access", "pool bandwidth ≥ 0.95× DRAM direct", "not run", null));
        } else {
            String region = rows.get(0).param("regionMiB");
            md.append("`AccessBenchmark`: the same `MemorySegment` loops (8-byte loads and stores) over one region of ").append(region)
                    .append(" MiB, written once in setup so no page faults are measured: a block of a volatile pool on /dev/shm, an ")
                    .append("`Arena.ofShared()` segment (the DRAM a direct ByteBuffer gets) and a heap `long[]` viewed as a segment. ")
                    .append("Sequential: one pass over the region per operation; random: whole 64-byte lines at random line addresses. ")
                    .append("GB/s (higher is better), ± from JMH's error of the time.\n\n");
            md.append("| access | pool (GB/s) | DRAM (GB/s) | heap (GB/s) | pool / DRAM | target | met |\n|---|---:|---:|---:|---:|---|---|\n");
            double[][] chart = new double[3][3];
            double[][] chartErr = new double[3][3];
            for (int o = 0; o < ops.length; o++) {
                double[] gbs = new double[3];
                double[] err = new double[3];
                for (int k = 0; k < kinds.length; k++) {
                    Results r = Results.find(rows, ops[o], "memory", kinds[k]);
                    gbs[k] = Double.NaN;
                    err[k] = Double.NaN;
                    if (r != null) {
                        double bytes = o < 2 ? Long.parseLong(r.param("regionMiB")) * 1048576.0 : 64.0;
                        double seconds = o < 2 ? r.score() / 1e3 : r.score() / 1e9; // ms per pass, ns per line
                        gbs[k] = bytes / seconds / 1e9;
                        err[k] = gbs[k] * r.error() / r.score();
                    }
                    chart[k][o] = gbs[k];
                    chartErr[k][o] = err[k];
                }
                double ratio = gbs[0] / gbs[1];
                boolean ok = ratio >= 0.95;
                md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | ≥ 0.95× | %s |%n", opLabels[o], gb(gbs[0], err[0]),
                        gb(gbs[1], err[1]), gb(gbs[2], err[2]), Double.isNaN(ratio) ? "–" : String.format(Locale.ROOT, "%.2f×", ratio),
                        Double.isNaN(ratio) ? "" : ok ? "**met**" : "**not met**"));
                targets.add(new Target("access", "pool ≥ 0.95× DRAM: " + opLabels[o],
                        Double.isNaN(ratio) ? "not run" : String.format(Locale.ROOT, "%.2f×", ratio), Double.isNaN(ratio) ? null : ok));
            }
            Results rp = Results.find(rows, "random64ByteRead", "memory", "pool");
            Results rd = Results.find(rows, "random64ByteRead", "memory", "dram");
            if (rp != null && rd != null) {
                md.append(String.format(Locale.ROOT, "%nRandom 64-byte reads, ns per line: pool %s, DRAM %s.%n", rp.formatted(), rd.formatted()));
            }
            md.append('\n');
            Svg.groupedBars(charts.resolve("bandwidth.svg"), "Bandwidth over " + region + " MiB (higher is better)", "GB/s",
                    List.of(opLabels), List.of(labels), chart, chartErr, false);
            md.append("![bandwidth: pool vs DRAM vs heap](charts/bandwidth.svg)\n\n");
        }
        List<Results> touch = Results.read(dir.resolve("first-touch.json"));
        md.append("### First touch\n\n");
        if (touch.isEmpty()) {
            md.append("_not run_\n\n");
            return;
        }
        md.append("`FirstTouchBenchmark`: one store into each 4 KiB page of 256 MiB nobody has touched yet, ns per page (single ")
                .append("shot, fresh memory each iteration). **pool**: a block of a new volatile pool on /dev/shm (file space ")
                .append("already reserved by fallocate, so the fault maps an existing tmpfs page); **DRAM**: a fresh ")
                .append("`Unsafe.allocateMemory` region (a new anonymous mapping: the fault allocates and zeroes a page). ")
                .append("Transparent huge pages: see the machine table.\n\n");
        md.append("| memory | ns per 4 KiB page |\n|---|---:|\n");
        for (Results r : touch) {
            md.append("| ").append(r.param("memory")).append(" | ").append(r.formatted()).append(" |\n");
        }
        md.append('\n');
    }

    // ------------------------------------------------------------------------------------------------ end to end

    /** The merged rounds of one variant of the end-to-end run. */
    record Echo(int rounds, double seconds, long roundTrips, double minThroughput, double maxThroughput, int connections, int size,
                org.HdrHistogram.Histogram hist) {
        double throughput() {
            return roundTrips / seconds;
        }

        double us(double percentile) {
            return hist.getValueAtPercentile(percentile) / 1000.0;
        }
    }

    @SuppressWarnings("unchecked")
    private Echo echo(String variant) throws IOException {
        return echo("e2e", variant);
    }

    private Echo echo(String prefix, String variant) throws IOException {
        List<Path> files;
        try (var s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().matches(prefix + "-" + variant + "(-\\d+)?\\.json")).sorted().toList();
        }
        if (files.isEmpty()) {
            return null;
        }
        org.HdrHistogram.Histogram all = null;
        double seconds = 0;
        long trips = 0;
        double min = Double.MAX_VALUE;
        double max = 0;
        int connections = 0;
        int size = 0;
        for (Path f : files) {
            Map<String, Object> m = (Map<String, Object>) io.jvmem.allocator.Json.parse(Files.readString(f));
            org.HdrHistogram.Histogram h = NettyEcho.decode((String) m.get("histogram"));
            if (all == null) {
                all = h;
            } else {
                all.add(h);
            }
            seconds += ((Number) m.get("seconds")).doubleValue();
            trips += ((Number) m.get("roundTrips")).longValue();
            min = Math.min(min, ((Number) m.get("throughput")).doubleValue());
            max = Math.max(max, ((Number) m.get("throughput")).doubleValue());
            connections = ((Number) m.get("connections")).intValue();
            size = ((Number) m.get("size")).intValue();
        }
        return new Echo(files.size(), seconds, trips, min, max, connections, size, all);
    }

    private void endToEndSection(StringBuilder md) throws IOException {
        md.append("## End to end: Netty echo with and without the agent\n\n");
        Echo j = echo("jdk");
        Echo p = echo("pool");
        if (j == null || p == null) {
            md.append("_not run_\n\n");
            targets.add(new Target("end to end", "throughput with agent ≥ 0.95× without", "not run", null));
            return;
        }
        md.append("`NettyEcho`: a Netty 4.1 echo server on loopback (NIO transport, one event loop, `PooledByteBufAllocator` ")
                .append("direct buffers) and ").append(j.connections()).append(" blocking client connections doing ")
                .append(j.size()).append("-byte request/response round trips in the same JVM; round-trip latency recorded with ")
                .append("HdrHistogram. **with agent**: a route including `io.netty` sends Netty's direct memory (its arenas' chunks) ")
                .append("to a 256 MiB volatile pool on /dev/shm (checked at start); **without**: the JDK. One JVM per round, rounds ")
                .append(String.format(Locale.ROOT, "alternating between the variants; %d × %.0f s measured per variant after a warm-up ",
                        j.rounds(), j.seconds() / j.rounds()))
                .append("each; throughput over all rounds, latency percentiles of the merged histograms, and the range of the ")
                .append("rounds' throughputs.\n\n");
        withAndWithout(md, j, p, "round trips/s", "Netty echo", "end-to-end.svg", "Netty echo throughput", "round trips per second",
                "Netty echo, " + j.size() + " B, " + j.connections() + " connections");
        double[][] lat = {{j.us(50), j.us(99), j.us(99.9)}, {p.us(50), p.us(99), p.us(99.9)}};
        Svg.groupedBars(charts.resolve("end-to-end-latency.svg"), "Netty echo round-trip latency (lower is better)", "µs",
                List.of("p50", "p99", "p99.9"), List.of("without agent (JDK)", "with agent (pool)"), lat, null, true);
        md.append("![end-to-end throughput](charts/end-to-end.svg) ![end-to-end latency](charts/end-to-end-latency.svg)\n\n")
                .append("(Error bar on throughput: half the range of the rounds.)\n\n");
    }

    private void h2Section(StringBuilder md) throws IOException {
        md.append("## End to end: H2 (nioMemFS) with and without the agent\n\n");
        Echo j = echo("h2", "jdk");
        Echo p = echo("h2", "pool");
        if (j == null || p == null) {
            md.append("_not run_\n\n");
            targets.add(new Target("end to end", "H2 throughput with agent ≥ 0.95× without", "not run", null));
            return;
        }
        md.append("`H2Workload`: H2 ").append("with its `nioMemFS` file system (the database file lives in direct ByteBuffers), ")
                .append("a table of 100 000 rows with ").append(j.size()).append("-byte payloads, then one thread running 80% point ")
                .append("reads, 10% updates and 10% 100-row range aggregates; the latency of each statement in HdrHistogram. ")
                .append("**with agent**: a route including `org.h2` sends nioMemFS's buffers (about 250 MiB) to a 512 MiB ")
                .append("volatile pool on /dev/shm (checked at start); **without**: the JDK. A pool on tmpfs is reserved, that is ")
                .append("backed by real pages, up front, so it costs the machine its whole size from the start: here a 1 GiB ")
                .append("pool, or just an unrelated 1 GiB file left in /dev/shm, cost this workload 10–20% of its throughput ")
                .append("(this VM pays for memory its guest touches for the first time). Size tmpfs pools to the need. ")
                .append(String.format(Locale.ROOT, "One JVM per round, rounds alternating; %d × %.0f s measured per variant.%n%n",
                        j.rounds(), j.seconds() / j.rounds()));
        withAndWithout(md, j, p, "statements/s", "H2", "end-to-end-h2.svg", "H2 nioMemFS throughput", "statements per second",
                "H2, 80% reads / 10% updates / 10% ranges");
        md.append("![H2 throughput](charts/end-to-end-h2.svg)\n\n");
    }

    /**
     * The part both end-to-end sections share: the table of the two variants, the throughput ratio judged against
     * the 0.95× target, and the throughput chart.
     */
    private void withAndWithout(StringBuilder md, Echo j, Echo p, String rateUnit, String workload, String chart,
                                String chartTitle, String chartUnit, String group) throws IOException {
        md.append("| variant | ").append(rateUnit)
                .append(" | rounds (min–max) | p50 (µs) | p99 (µs) | p99.9 (µs) | max (µs) |\n|---|---:|---:|---:|---:|---:|---:|\n");
        for (Echo e : List.of(j, p)) {
            md.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f–%.0f | %.1f | %.1f | %.1f | %.1f |%n",
                    e == p ? "with agent (pool)" : "without agent (JDK)", e.throughput(), e.minThroughput(), e.maxThroughput(),
                    e.us(50), e.us(99), e.us(99.9), e.hist().getMaxValue() / 1000.0));
        }
        double r = p.throughput() / j.throughput();
        boolean ok = r >= 0.95;
        md.append(String.format(Locale.ROOT, "%nThroughput with the agent: %.2f× without (target ≥ 0.95×: %s).%n%n", r, ok ? "**met**" : "**not met**"));
        targets.add(new Target("end to end", workload + " throughput with agent ≥ 0.95× without", String.format(Locale.ROOT, "%.2f×", r), ok));
        double[][] v = {{j.throughput()}, {p.throughput()}};
        double[][] ve = {{(j.maxThroughput() - j.minThroughput()) / 2}, {(p.maxThroughput() - p.minThroughput()) / 2}};
        Svg.groupedBars(charts.resolve(chart), chartTitle + " (higher is better)",
                chartUnit, List.of(group), List.of("without agent (JDK)", "with agent (pool)"), v, ve, false);
    }

    static final String DAX_SECTION = """
            ## Running against real DAX or CXL memory

            The numbers above use tmpfs (/dev/shm), i.e. ordinary DRAM behind a file. To measure the memory jvmem is meant
            for, point the pools at it; nothing else changes.

            - **File system DAX** (persistent memory or CXL memory exposed as a pmem namespace in fsdax mode): make an ext4 or
              xfs file system on it and mount it with `-o dax` (e.g. `mount -o dax /dev/pmem0 /mnt/pmem`). Give that
              directory as the pool's directory: `VolatilePool.create(name, Path.of("/mnt/pmem"), size)`, or in the agent's
              config `pool.<name>.path=/mnt/pmem`. jvmem maps pool files with `MAP_SHARED_VALIDATE | MAP_SYNC` first and
              falls back to a plain shared mapping when the file system refuses; `VolatilePool.isSyncMapped()` (and
              `CtoPool.isSyncMapped()`) tell which one you got. `true` means the mapping is real DAX: loads and stores go
              to the device with no page cache in between, and CPU cache flushes alone make stores durable.
            - **Device DAX** (`/dev/daxX.Y`, namespace in devdax mode): give the character device itself as the path
              (`pool.<name>.path=/dev/dax0.0`); the whole device is the pool and its size comes from sysfs. Device DAX
              maps in its own alignment (usually 2 MiB, see `/sys/bus/dax/devices/daxX.Y/align`), so pages are huge pages
              and the first-touch numbers above do not apply.
            - **Huge pages** on DRAM or CXL memory without DAX: put the pool in a hugetlbfs directory (e.g.
              `mount -t hugetlbfs -o pagesize=2M none /mnt/huge` after reserving pages in
              `/proc/sys/vm/nr_hugepages`) and make the pool size a multiple of the huge page size; decay gives back
              whole huge pages. Or ask for transparent huge pages on a tmpfs or memfd pool
              (`pool.<name>.huge-pages=transparent`, with `shmem_enabled` at `advise`). `bench/tier` measures
              random and sequential reads on a hugetlbfs pool, a 4 KiB-page pool and DRAM (see the README section
              "Putting pools on CXL memory and huge pages").
            - **NUMA placement / CXL memory as a CPU-less NUMA node** (the usual way CXL type-3 memory appears: check
              `numactl -H` for a node with memory and no CPUs): give the pool a policy, `pool.<name>.numa=bind:<node>`
              (or `preferred:`, `interleave:`; `PoolOptions.withNumaPolicy`): it is applied with mbind(2) to the
              pool's mapping before any page is reserved, so only the pools go there and the Java heap stays in local
              DRAM; the stats and report give the pool's pages per node. Bind the CPUs with `numactl --cpunodebind`
              to keep runs comparable.

            To rerun only the bandwidth suite against such memory: change the pool directory in `AccessBenchmark` /
            the agent config (`bench/agent-bench.properties`, which bench/run copies with its report path) and run
            `bench/run --smoke` first to check that everything starts, then `bench/run`.
            """;
}
