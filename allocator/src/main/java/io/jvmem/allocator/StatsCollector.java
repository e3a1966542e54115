package io.jvmem.allocator;

import java.util.ArrayList;
import java.util.List;

/** Builds a {@link PoolStats} snapshot by summing per-thread counters and reading the arenas and page allocator. */
final class StatsCollector {
    private StatsCollector() {
    }

    static PoolStats collect(Allocator h) {
        synchronized (h.caches.drainLock) {
            return collectLocked(h);
        }
    }

    /**
     * The pool's tier; where its pages are is asked of the kernel ({@link Residency}, a system call per 4096 pages)
     * only for a pool that asked for a NUMA policy or huge pages, so that statistics stay cheap for the others.
     */
    static PoolStats.Tier tier(Allocator h) {
        long size = h.poolSize;
        long page = h.layout.filePageSize;
        Placement placement = Placement.of(h.options);
        boolean measure = !placement.isDefault() || page > SizeClasses.PAGE;
        long[] perNode = measure ? Residency.pagesPerNode(h.base, size, page) : new long[0];
        List<Long> nodes = new ArrayList<>();
        for (int i = 0; i + 1 < perNode.length; i++) {
            nodes.add(perNode[i]);
        }
        while (!nodes.isEmpty() && nodes.getLast() == 0 && nodes.size() > 1) {
            nodes.removeLast();
        }
        long notPresent = perNode.length == 0 ? 0 : perNode[perNode.length - 1];
        String huge = page > SizeClasses.PAGE ? "hugetlbfs" : placement.transparentHugePages ? "transparent" : "none";
        long hugeBytes = huge.equals("none") ? -1 : Residency.hugePageBytes(h.base, size);
        return new PoolStats.Tier(Math.max(h.layout.maxSize, size), page, h.pages.chunks(),
                placement.numa == null ? "default" : placement.numa.toString(), List.copyOf(nodes), notPresent, huge, hugeBytes);
    }

    private static PoolStats collectLocked(Allocator h) {
        List<ThreadCache> caches = h.caches.snapshot();
        int slots = SizeClasses.NCLASSES + 1;
        long[] nmalloc;
        long[] nfree;
        long allocated;
        long cached;
        int tagExtent = h.tags.extent();
        for (ThreadCache tc : caches) {
            tagExtent = Math.max(tagExtent, tc.tagCapacity());
        }
        long[] tagRequests;
        long[] tagPending;
        long[] tagBytes;
        long untaggedBytes;
        long allPendingMax;
        long[] tagPendingMax;
        long[] published = new long[Math.max(tagExtent, 1)];
        long[] tagPeak = new long[Math.max(tagExtent, 1)];
        long totalPublished;
        long totalPeak;
        synchronized (h.tags.moveLock) {
            // the threads' pending counters and the published ones with no publication in between (else the moved
            // bytes count twice or not at all)
            nmalloc = new long[slots];
            nfree = new long[slots];
            allocated = 0;
            cached = 0;
            tagRequests = new long[Math.max(tagExtent, 1)];
            tagPending = new long[Math.max(tagExtent, 1)];
            tagBytes = new long[Math.max(tagExtent, 1)];
            untaggedBytes = 0;
            allPendingMax = 0;
            tagPendingMax = new long[Math.max(tagExtent, 1)];
            for (ThreadCache tc : caches) {
                tc.addClassCounts(nmalloc, nfree);
                allocated += tc.hugeBytes;
                untaggedBytes += tc.untaggedBytes;
                allPendingMax += Math.max(0, tc.allPendingMax);
                cached += tc.cachedBytes();
                tc.addTagCounts(tagRequests, tagBytes, tagPending, tagPendingMax);
            }
            for (int t = 1; t < tagExtent; t++) {
                published[t] = h.tags.inUse(t);
                tagPeak[t] = h.tags.peak(t);
            }
            totalPublished = h.tags.totalPublished();
            totalPeak = h.tags.totalPeak();
        }
        List<PoolStats.SizeClassStats> classes = new ArrayList<>();
        long[] slabs = new long[SizeClasses.NSMALL];
        List<PoolStats.ArenaStats> arenas = new ArrayList<>();
        int[] threads = new int[h.arenas.length];
        for (ThreadCache tc : caches) {
            if (tc.owner != null) {
                threads[tc.arena.index]++;
            }
        }
        for (HeapArena a : h.arenas) {
            long[] c = a.slabCounts();
            long n = 0;
            long bytes = 0;
            for (int i = 0; i < c.length; i++) {
                slabs[i] += c[i];
                n += c[i];
                bytes += c[i] * SizeClasses.slabPages(i) * (long) SizeClasses.PAGE;
            }
            arenas.add(new PoolStats.ArenaStats(a.index, threads[a.index], n, bytes));
        }
        long mallocs = -h.accounting.inheritedBlocks; // blocks found live at reopen count as allocated, not as served
        long frees = 0;
        for (int i = 0; i < slots; i++) {
            // threads are read one after another: a block allocated by a thread read earlier and freed by one read
            // later has its free counted and not its malloc. Such frees are left for a later snapshot (lag).
            nfree[i] = Math.min(nfree[i], nmalloc[i]);
            mallocs += nmalloc[i];
            frees += nfree[i];
            if (i < SizeClasses.NCLASSES) {
                allocated += (nmalloc[i] - nfree[i]) * SizeClasses.size(i);
            }
            if (nmalloc[i] == 0 && nfree[i] == 0 && (i >= SizeClasses.NSMALL || slabs[i] == 0)) {
                continue;
            }
            boolean huge = i == SizeClasses.NCLASSES;
            boolean small = !huge && SizeClasses.isSmall(i);
            classes.add(new PoolStats.SizeClassStats(i, huge ? -1 : SizeClasses.size(i),
                    huge ? "huge" : small ? "small" : "large", nmalloc[i], nfree[i], nmalloc[i] - nfree[i],
                    small ? slabs[i] : 0, small ? SizeClasses.slabRegions(i) : 0, small ? SizeClasses.slabPages(i) : 0));
        }
        List<PoolStats.TagStats> tags = new ArrayList<>();
        long taggedInUse = 0;
        long taggedRequests = 0;
        long taggedBytes = 0;
        for (int t = 1; t < tagExtent; t++) {
            long requests = tagRequests[t] + h.tags.retiredRequests(t);
            if (requests == 0) {
                continue;
            }
            // as frees above: a block freed by a thread read after the one that allocated it, read before, is
            // counted out and not in; never below zero
            long inUse = Math.max(0, published[t] + tagPending[t]);
            long peak = Math.max(tagPeak[t], Math.max(inUse, published[t] + tagPendingMax[t]));
            long bytes = tagBytes[t] + h.tags.retiredBytes(t);
            tags.add(new PoolStats.TagStats(AllocationTag.byId(t).name(), inUse, requests, bytes, peak));
            taggedBytes += bytes;
            taggedInUse += inUse;
            taggedRequests += requests;
        }
        long untaggedRequests = -h.accounting.inheritedBlocks;
        for (int i = 0; i < slots; i++) {
            untaggedRequests += nmalloc[i];
        }
        untaggedRequests -= taggedRequests;
        long untaggedInUse = Math.max(0, allocated - taggedInUse);
        // a reopened cto pool's blocks are untagged (tags are the process's): in use, with no request of this process
        if (untaggedRequests > 0 || h.accounting.inheritedBlocks > 0 && untaggedInUse > 0) {
            long inUse = untaggedInUse;
            tags.add(0, new PoolStats.TagStats(AllocationTag.UNTAGGED.name(), inUse, Math.max(0, untaggedRequests),
                    untaggedBytes, inUse));
        }
        long freeBytes = h.pages.freePages() << SizeClasses.LG_PAGE;
        long peakAllocated = Math.max(Math.max(totalPeak, allocated), totalPublished + allPendingMax);
        return new PoolStats(h.name, h.poolSize, h.heapBytes(), h.layout.metadataBytes(), allocated, peakAllocated,
                h.heapBytes() - freeBytes, cached, h.pages.dirtyPages() << SizeClasses.LG_PAGE,
                h.pages.purgedPages() << SizeClasses.LG_PAGE, mallocs, frees,
                h.pages.largestFreeRun() << SizeClasses.LG_PAGE, List.copyOf(classes), List.copyOf(arenas), List.copyOf(tags), tier(h));
    }
}
