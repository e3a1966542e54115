package io.jvmem.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Prints the fastest iterations of a one-fork JMH result ({@code -rf json}): minimum, 10th and 25th percentile and
 * median, in the benchmark's unit. Used by {@code bench/fast-state}, where the machine's fast state is what compares.
 * Usage: {@code FastState <result.json> <label>}.
 */
public final class FastState {
    private FastState() {
    }

    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: FastState <jmh-result.json> <label>");
            System.exit(2);
        }
        List<Object> runs = (List<Object>) io.jvmem.allocator.Json.parse(Files.readString(Path.of(args[0])));
        Map<String, Object> metric = (Map<String, Object>) ((Map<String, Object>) runs.get(0)).get("primaryMetric");
        List<Double> x = new ArrayList<>();
        for (Object fork : (List<Object>) metric.get("rawData")) {
            for (Object v : (List<Object>) fork) {
                x.add(((Number) v).doubleValue());
            }
        }
        x.sort(null);
        int n = x.size();
        System.out.println(String.format(Locale.ROOT, "%-28s min %8.1f  p10 %8.1f  p25 %8.1f  median %8.1f %s (%d iterations)",
                args[1], x.get(0), x.get(n / 10), x.get(n / 4), x.get(n / 2), metric.get("scoreUnit"), n));
    }
}
