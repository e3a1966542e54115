package io.jvmem.allocator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where and how a pool's pages are backed, applied to each chunk of its mapping before any page of the chunk is
 * reserved or touched: a NUMA policy (mbind(2)) and transparent huge pages (madvise(MADV_HUGEPAGE)). On tmpfs,
 * memfd and hugetlbfs files mbind sets the file's shared policy for the range, which fallocate then follows, so the
 * reservation itself lands on the policy's nodes.
 */
final class Placement {
    static final Placement NONE = new Placement(null, false);
    private static final Path NODES = Path.of("/sys/devices/system/node");

    final NumaPolicy numa;
    final boolean transparentHugePages;

    Placement(NumaPolicy numa, boolean transparentHugePages) {
        this.numa = numa;
        this.transparentHugePages = transparentHugePages;
    }

    static Placement of(PoolOptions options) {
        NumaPolicy numa = options.numaPolicy().orElse(null);
        boolean thp = options.hugePages() == PoolOptions.HugePages.TRANSPARENT;
        return numa == null && !thp ? NONE : new Placement(numa, thp);
    }

    boolean isDefault() {
        return numa == null && !transparentHugePages;
    }

    /**
     * Refuses ({@link PoolErrorReason#NUMA_NODE}) a policy naming a node that does not exist or has no memory, before
     * anything is made: mbind would accept some of these and then place nothing where asked.
     */
    void checkNodes() {
        if (numa == null) {
            return;
        }
        List<Integer> online = sysfsNodes("online");
        List<Integer> withMemory = sysfsNodes("has_memory");
        if (online == null) {
            throw new PoolException(PoolErrorReason.NUMA_NODE, "NUMA policy " + numa + " cannot be applied: this kernel "
                    + "shows no NUMA nodes (" + NODES + "/online is missing)");
        }
        for (int n : numa.nodes()) {
            if (!online.contains(n)) {
                throw new PoolException(PoolErrorReason.NUMA_NODE, "NUMA policy " + numa + ": node " + n
                        + " does not exist (nodes online: " + Residency.list(online) + ")");
            }
            if (withMemory != null && !withMemory.contains(n)) {
                throw new PoolException(PoolErrorReason.NUMA_NODE, "NUMA policy " + numa + ": node " + n
                        + " has no memory (nodes with memory: " + Residency.list(withMemory) + ")");
            }
        }
    }

    /** The nodes sysfs lists in {@code file} (online, has_memory), or null if it cannot be read. */
    static List<Integer> sysfsNodes(String file) {
        try {
            List<Integer> r = new ArrayList<>();
            for (int n : NumaPolicy.parseNodes(Files.readString(NODES.resolve(file)).trim())) {
                r.add(n);
            }
            return r;
        } catch (IOException | IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Applies the placement to [address, address + length) of a fresh mapping whose pages are not reserved yet.
     * Throws {@link PoolException} ({@link PoolErrorReason#NUMA_NODE}) when the kernel refuses the policy.
     */
    void apply(long address, long length, String description) {
        if (numa != null && Native.mbind(address, length, numa.mode().mpol, numa.nodemask(), numa.maxnode(), 0) != 0) {
            int errno = Native.lastErrno();
            throw new PoolException(PoolErrorReason.NUMA_NODE, "cannot apply NUMA policy " + numa + " to " + description
                    + ": mbind: " + Native.strerror(errno));
        }
        if (transparentHugePages) {
            Native.madvise(address, length, Native.MADV_HUGEPAGE); // advice: a kernel without THP for files just ignores it
        }
    }

    @Override
    public String toString() {
        return (numa == null ? "default placement" : "numa " + numa) + (transparentHugePages ? ", transparent huge pages" : "");
    }
}
