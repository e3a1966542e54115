package io.jvmem.allocator;

import java.util.List;

/**
 * A snapshot of a pool's statistics (jemalloc's stats.* and arenas.*). Counters kept per thread are summed without
 * stopping other threads, so a snapshot taken while they allocate may lag by a few operations. Its counts never
 * count more frees than mallocs of a size class nor a tag's in-use bytes below zero: a block that one thread allocated
 * and another freed meanwhile may show as freed only in a later snapshot.
 *
 * @param mapped     bytes mapped for the pool (its size)
 * @param usable     bytes of heap that can be handed out (mapped minus in-pool metadata)
 * @param metadata   bytes of in-pool metadata (header, page map, live map)
 * @param allocated  usable bytes of live blocks
 * @param peakAllocated high-water mark of {@code allocated} (exact for one thread, within 1 MiB per thread otherwise)
 * @param active     bytes of pages in use by blocks, slabs or thread caches
 * @param cached     bytes of free blocks held in thread caches
 * @param dirty      bytes of free pages not yet returned to the file system
 * @param purged     bytes of pages returned to the file system so far
 * @param mallocs    allocations served
 * @param frees      blocks freed
 * @param tags       per {@link AllocationTag} with requests, plus an {@code untagged} row first (derived: allocated minus
 *                   the tagged bytes); a reopened close-to-open pool's blocks are untagged, in use with no requests
 * @param tier       where the pool's memory is: size limit, page size, NUMA placement, huge pages
 */
public record PoolStats(String name, long mapped, long usable, long metadata, long allocated, long peakAllocated, long active,
                        long cached, long dirty, long purged, long mallocs, long frees, long largestFree,
                        List<SizeClassStats> sizeClasses, List<ArenaStats> arenas, List<TagStats> tags, Tier tier) {

    /**
     * The memory tier under the pool, as the kernel reports it at the time of the snapshot.
     *
     * @param maxSize        bytes the pool may grow to ({@code mapped} for a pool of fixed size)
     * @param filePageSize   page size of the pool's file system (2 MiB on a hugetlbfs of 2 MiB pages, else 4096)
     * @param chunks         chunks the heap is made of (1, plus one per growth step)
     * @param numaPolicy     the NUMA policy asked for, in numactl's words, or "default"
     * @param pagesPerNode   pages of the pool mapped by this process, per NUMA node (index = node), from move_pages(2);
     *                       measured only for a pool with a NUMA policy or huge pages (empty otherwise, and when the
     *                       kernel cannot say)
     * @param pagesNotPresent pages of the pool this process has not touched (on no node yet)
     * @param hugePages      huge pages asked for: "none", "transparent", or "hugetlbfs"
     * @param hugePageBytes  bytes of the pool actually backed by huge pages (/proc/self/smaps), -1 when none were
     *                       asked for (not measured)
     */
    public record Tier(long maxSize, long filePageSize, int chunks, String numaPolicy, List<Long> pagesPerNode,
                       long pagesNotPresent, String hugePages, long hugePageBytes) {
    }

    /** One size class; {@code size} is -1 for the huge (page-rounded) row. */
    public record SizeClassStats(int index, long size, String kind, long mallocs, long frees, long live,
                                 long slabs, int regionsPerSlab, int slabPages) {
    }

    public record ArenaStats(int index, int threads, long slabs, long slabBytes) {
    }

    /**
     * Typed allocation statistics (malloc(9)): bytes in use, requests served, usable bytes handed out in all, and the
     * high-water mark of bytes in use.
     */
    public record TagStats(String name, long inUse, long requests, long bytes, long peakInUse) {
    }

    public TagStats tag(String tagName) {
        for (TagStats t : tags) {
            if (t.name().equals(tagName)) {
                return t;
            }
        }
        return null;
    }
}
