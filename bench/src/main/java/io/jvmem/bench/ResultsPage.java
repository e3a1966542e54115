package io.jvmem.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;

/**
 * Writes bench/RESULTS.md from the JMH JSON files of one run: the machine, the JDK, the flags, every table with its
 * error bars, and each target of the issues as met or not met with the measured ratio.
 *
 * <p>Usage: {@code ResultsPage <results-dir> <RESULTS.md> <command line that produced the run>}
 */
public final class ResultsPage {
    private static final String[] SIZES = {"64", "4096", "65536", "1048576"};

    private ResultsPage() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        Path out = Path.of(args[1]);
        String command = args.length > 2 ? args[2] : "bench/run";
        StringBuilder md = new StringBuilder();
        md.append("# jvmem benchmark results\n\n");
        md.append("Written by `").append(command).append("` on ").append(LocalDate.now()).append(". Regenerate with the same command; ")
                .append("numbers are JMH averages with the 99.9% confidence half-width (±). The machines are shared and noisy: read ")
                .append("the ratios against the baseline measured in the same run, not the absolute times.\n\n");
        md.append(machine()).append('\n');
        md.append(Files.exists(dir.resolve("flags.txt")) ? "JMH options and JVM flags: `" + Files.readString(dir.resolve("flags.txt")).trim() + "`\n\n" : "");
        mallocSection(md, Results.read(dir.resolve("malloc-1t.json")), Results.read(dir.resolve("malloc-2t.json")));
        Files.writeString(out, md.toString());
        System.out.println("wrote " + out);
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
        return "## Machine\n\n| | |\n|---|---|\n"
                + "| CPU | " + cpu + " |\n"
                + "| cores | " + Runtime.getRuntime().availableProcessors() + " |\n"
                + "| memory | " + mem + " GiB |\n"
                + "| OS | " + System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch") + " |\n"
                + "| JDK | " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version") + " |\n"
                + "| pool backing | tmpfs (/dev/shm) |\n";
    }

    private static void mallocSection(StringBuilder md, List<Results> one, List<Results> two) {
        md.append("## Allocation: pool malloc+free vs Unsafe.allocateMemory+freeMemory\n\n");
        if (one.isEmpty()) {
            md.append("_not run_\n\n");
            return;
        }
        md.append("`MallocFreeBenchmark`: one malloc and one free of the same size per operation, ns per pair (lower is better). ")
                .append("The baseline is glibc malloc through `sun.misc.Unsafe`, in the same JVM fork.\n\n");
        md.append("| size | threads | pool (ns) | Unsafe (ns) | pool / Unsafe | target | met |\n|---:|---:|---:|---:|---:|---|---|\n");
        for (List<Results> rows : List.of(one, two)) {
            for (String size : SIZES) {
                Results p = Results.find(rows, "poolMallocFree", "size", size);
                Results u = Results.find(rows, "unsafeAllocateFree", "size", size);
                if (p == null || u == null) {
                    continue;
                }
                double ratio = p.score() / u.score();
                boolean oneThread = p.threads() == 1;
                String target = !oneThread ? "(reference)" : size.equals("1048576") ? "≤ 1.0×" : "≤ 0.5×";
                String met = !oneThread ? "" : (ratio <= (size.equals("1048576") ? 1.0 : 0.5) ? "**met**" : "**not met**");
                md.append(String.format("| %s | %d | %s | %s | %.2f× | %s | %s |%n", human(size), p.threads(), p.formatted(),
                        u.formatted(), ratio, target, met));
            }
        }
        Results p1 = Results.find(one, "poolMallocFree", "size", "4096");
        Results p2 = Results.find(two, "poolMallocFree", "size", "4096");
        if (p1 != null && p2 != null) {
            // average time per op per thread → throughput = threads / time
            double scale = (p2.threads() / p2.score()) / (p1.threads() / p1.score());
            md.append(String.format("%nTwo-thread scaling at 4 KiB: %.2f× the one-thread throughput (target ≥ 1.7×: %s).%n%n",
                    scale, scale >= 1.7 ? "**met**" : "**not met**"));
        }
    }

    static String human(String bytes) {
        long b = Long.parseLong(bytes);
        if (b >= 1 << 20 && b % (1 << 20) == 0) {
            return (b >> 20) + " MiB";
        }
        if (b >= 1024 && b % 1024 == 0) {
            return (b >> 10) + " KiB";
        }
        return b + " B";
    }
}
