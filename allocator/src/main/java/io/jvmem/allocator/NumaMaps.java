package io.jvmem.allocator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Pages of a mapping per NUMA node, from {@code /proc/self/numa_maps} ({@code N<node>=<pages>} on its line). */
final class NumaMaps {
    private NumaMaps() {
    }

    /** {@code N0 → pages}, … for the mapping that starts at {@code base}; empty when the kernel does not say. */
    static Map<String, Long> pagesPerNode(long base) {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/numa_maps"));
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
        return parse(lines, base);
    }

    static Map<String, Long> parse(List<String> lines, long base) {
        String start = Long.toHexString(base) + " ";
        Map<String, Long> out = new TreeMap<>();
        for (String line : lines) {
            if (!line.startsWith(start)) {
                continue;
            }
            for (String f : line.split(" ")) {
                int eq = f.indexOf('=');
                if (f.length() > 1 && f.charAt(0) == 'N' && Character.isDigit(f.charAt(1)) && eq > 1) {
                    try {
                        out.put(f.substring(0, eq), Long.parseLong(f.substring(eq + 1)));
                    } catch (NumberFormatException ignored) {
                        // not a node count
                    }
                }
            }
        }
        return out;
    }
}
