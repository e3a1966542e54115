package io.jvmem.allocator;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a mapping's pages actually are, asked of the kernel: the NUMA node of each page this process has mapped
 * (move_pages(2) in query mode), and how many bytes huge pages back (/proc/self/smaps: AnonHugePages,
 * ShmemPmdMapped, FilePmdMapped and the hugetlb counters). Both are snapshots; a page never touched by this process
 * is on no node yet.
 */
final class Residency {
    /** Page addresses per move_pages call. */
    private static final int BATCH = 4096;

    private Residency() {
    }

    /**
     * Pages of [address, address + length), stepping by {@code pageSize}, per NUMA node: index n holds node n's count;
     * the last slot counts pages not present (never touched by this process). Empty when move_pages fails.
     */
    static long[] pagesPerNode(long address, long length, long pageSize) {
        long[] counts = new long[2];
        long[] batch = new long[BATCH];
        int[] status = new int[BATCH];
        long notPresent = 0;
        for (long off = 0; off < length; ) {
            int n = (int) Math.min(BATCH, (length - off + pageSize - 1) / pageSize);
            long[] pages = n == BATCH ? batch : new long[n];
            for (int i = 0; i < n; i++) {
                pages[i] = address + off + i * pageSize;
            }
            if (Native.queryPages(pages, status) < 0) {
                return new long[0];
            }
            for (int i = 0; i < n; i++) {
                int node = status[i];
                if (node < 0) {
                    notPresent++;
                } else {
                    if (node + 1 >= counts.length) {
                        counts = java.util.Arrays.copyOf(counts, node + 2);
                    }
                    counts[node]++;
                }
            }
            off += n * pageSize;
        }
        counts[counts.length - 1] = notPresent;
        return counts;
    }

    /**
     * Bytes of [address, address + length) backed by huge pages, summed over the mappings of /proc/self/smaps that
     * overlap it (whole mappings: a pool's chunks are mappings of their own); -1 if smaps cannot be read.
     */
    static long hugePageBytes(long address, long length) {
        long end = address + length;
        long total = 0;
        boolean inside = false;
        try (BufferedReader r = Files.newBufferedReader(Path.of("/proc/self/smaps"))) {
            String line;
            while ((line = r.readLine()) != null) {
                int dash = line.indexOf('-');
                int space = line.indexOf(' ');
                if (dash > 0 && space > dash && isHex(line, 0, dash)) {
                    long lo = Long.parseUnsignedLong(line, 0, dash, 16);
                    long hi = Long.parseUnsignedLong(line, dash + 1, space, 16);
                    inside = lo < end && hi > address;
                } else if (inside && (line.startsWith("AnonHugePages:") || line.startsWith("ShmemPmdMapped:")
                        || line.startsWith("FilePmdMapped:") || line.startsWith("Shared_Hugetlb:")
                        || line.startsWith("Private_Hugetlb:"))) {
                    String[] f = line.trim().split("\\s+");
                    total += Long.parseLong(f[1]) * 1024; // kB
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return total;
    }

    private static boolean isHex(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return to > from;
    }

    /** Nodes as numactl lists them: "0,2,3". */
    static String list(List<Integer> nodes) {
        StringBuilder b = new StringBuilder();
        for (int n : nodes) {
            b.append(b.isEmpty() ? "" : ",").append(n);
        }
        return b.toString();
    }
}
