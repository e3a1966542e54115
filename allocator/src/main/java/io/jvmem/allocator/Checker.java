package io.jvmem.allocator;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * vmem_check: a read-only walk over every allocator structure, with arenas and the page allocator locked.
 * <ul>
 *   <li>the header validates (magic, version, layout, checksum);</li>
 *   <li>runs tile the heap exactly: each head's length stays in bounds, each tail repeats it;</li>
 *   <li>free runs are indexed, never adjacent to another free run, and hold no live bit;</li>
 *   <li>large runs have a valid class for their length and exactly their first granule marked handed out; one that
 *       carries the free key sits in a thread cache;</li>
 *   <li>every slab page names its slab, distance and class; the slab exists at that page; each region is either
 *       available in its slab or marked handed out (and then cached exactly when it carries the free key); no bit
 *       lies off a region start;</li>
 *   <li>the free page count and slab registry agree with the walk;</li>
 *   <li>the root is 0 or the start of a block in the program's hands (not free, not in a thread cache, not inside
 *       another block, not in the metadata or past the heap);</li>
 *   <li>offline, in a pool closed cleanly: every slab's regions in use recorded at close (see {@link PageMap}) match
 *       its live bits, so a live bit lost or added on media is caught before the block is handed out twice.</li>
 * </ul>
 * Thread caches are read without stopping their threads, so the answer is exact only while no thread allocates.
 */
final class Checker {
    private static final int MAX_PROBLEMS = 50;

    private Checker() {
    }

    static PoolCheck check(Allocator h) {
        if (h.isClosed()) {
            return new PoolCheck(PoolCheck.Status.NOT_CHECKED, List.of("pool " + h.name + " was deleted"));
        }
        return lockArenas(h, 0);
    }

    private static PoolCheck lockArenas(Allocator h, int i) {
        if (i == h.arenas.length) {
            synchronized (h.pages) {
                return run(h);
            }
        }
        synchronized (h.arenas[i]) {
            return lockArenas(h, i + 1);
        }
    }

    private static PoolCheck run(Allocator h) {
        List<String> problems = new ArrayList<>();
        try {
            walk(h, problems);
        } catch (RuntimeException e) {
            problems.add("check stopped at damaged metadata: " + e);
        }
        if (problems.size() > MAX_PROBLEMS) {
            int more = problems.size() - MAX_PROBLEMS;
            problems = new ArrayList<>(problems.subList(0, MAX_PROBLEMS));
            problems.add("... and " + more + " more");
        }
        return new PoolCheck(problems.isEmpty() ? PoolCheck.Status.CONSISTENT : PoolCheck.Status.INCONSISTENT,
                List.copyOf(problems));
    }

    /**
     * Read-only structural check of a pool that has no allocator yet (a close-to-open pool before it is opened, or
     * offline): runs tile the heap, tails and slab pages agree with their heads, handed-out bits sit only at block
     * starts, and every large run is handed out (a cleanly closed pool has no thread caches).
     */
    static List<String> checkRaw(java.lang.foreign.MemorySegment pool, PoolLayout layout) {
        List<String> problems = new ArrayList<>();
        try {
            walk(null, pool, layout, new PageMap(pool, layout, layout.heapPagesAt(PoolLayout.size(pool))), new LiveMap(pool, layout), problems);
        } catch (RuntimeException e) {
            problems.add("check stopped at damaged metadata: " + e);
        }
        return problems;
    }

    private static void walk(Allocator h, List<String> problems) {
        try {
            PoolLayout.read(h.pool, h.poolSize);
        } catch (PoolException e) {
            problems.add("header: " + e.getMessage());
        }
        walk(h, h.pool, h.layout, h.pageMap, h.live, problems);
    }

    /** The walk over runs; {@code h} null means raw mode (no caches, no slab registry, no free index). */
    private static void walk(Allocator h, java.lang.foreign.MemorySegment pool, PoolLayout layout, PageMap map,
                             LiveMap live, List<String> problems) {
        boolean counts = h == null && PoolLayout.recordsSlabCounts(pool);
        long rootPoolOffset = PoolLayout.root(pool);
        long root = rootPoolOffset == 0 ? -1 : rootPoolOffset - layout.heapOffset; // heap offset
        String rootProblem = rootOutsideHeap(rootPoolOffset, layout, map.pages);
        boolean rootSeen = rootProblem != null || root < 0;
        Set<Long> cached = new HashSet<>();
        if (h != null) {
            for (ThreadCache tc : h.caches.snapshot()) {
                for (int c = 0; c < tc.stack.length; c++) {
                    for (int i = 0; i < tc.height(c); i++) {
                        if (!cached.add(tc.bins[c][i])) {
                            problems.add("block at heap offset " + tc.bins[c][i] + " is cached twice");
                        }
                    }
                }
            }
        }
        long total = map.pages;
        long p = 0;
        long freePages = 0;
        boolean prevFree = false;
        int slabsSeen = 0;
        while (p < total && problems.size() <= MAX_PROBLEMS) {
            long e = map.get(p);
            long n = PageAllocator.runLength(p, e);
            if (n <= 0 || p + n > total) {
                problems.add("page " + p + ": entry 0x" + Long.toHexString(e) + " does not start a run that fits the heap");
                return;
            }
            int kind = PageMap.kind(e);
            if (!rootSeen && root >> SizeClasses.LG_PAGE < p + n) {
                rootSeen = true;
                rootProblem = rootInRun(h, live, root, p, n, e);
            }
            if (kind == PageMap.FREE) {
                checkTail(map, p, n, PageMap.FREE, problems);
                if (h != null && !h.pages.isIndexed(p, n)) {
                    problems.add("free run at page " + p + " (" + n + " pages) is not in the free index");
                }
                if (prevFree) {
                    problems.add("free run at page " + p + " follows another free run (not coalesced)");
                }
                noLiveBits(live, p << SizeClasses.LG_PAGE, (p + n) << SizeClasses.LG_PAGE, -1, problems, "free run at page " + p);
                freePages += n;
                prevFree = true;
            } else if (kind == PageMap.LARGE) {
                checkTail(map, p, n, PageMap.LARGE, problems);
                int cls = PageMap.cls(e);
                if (cls != PageMap.HUGE_CLASS && (cls >= SizeClasses.NCLASSES || SizeClasses.isSmall(cls)
                        || SizeClasses.size(cls) != n << SizeClasses.LG_PAGE)) {
                    problems.add("large run at page " + p + " has class " + cls + " that does not match its " + n + " pages");
                }
                long off = p << SizeClasses.LG_PAGE;
                noLiveBits(live, off + SizeClasses.QUANTUM, (p + n) << SizeClasses.LG_PAGE, -1, problems, "large run at page " + p);
                boolean inCache = cached.remove(off);
                if (!live.isSet(off)) {
                    problems.add("large run at page " + p + " is in use but not marked handed out" + (inCache ? " (yet cached)" : " (lost)"));
                } else if (h != null && !inCache && h.hasFreeKey(off)) {
                    problems.add("large run at page " + p + " carries the free key but is in no thread cache");
                }
                prevFree = false;
            } else if (kind == PageMap.SLAB) {
                slabsSeen++;
                if (h == null) {
                    checkRawSlab(map, live, p, e, counts, problems);
                } else {
                    checkSlab(h, p, e, cached, problems);
                }
                prevFree = false;
            } else {
                problems.add("page " + p + ": invalid kind " + kind);
                return;
            }
            p += n;
        }
        if (rootProblem != null) {
            problems.add("root offset " + rootPoolOffset + " " + rootProblem);
        }
        if (h == null) {
            return;
        }
        if (freePages != h.pages.freePages()) {
            problems.add("free pages in the page map (" + freePages + ") differ from the free index (" + h.pages.freePages() + ")");
        }
        int registered = 0;
        for (int id = 0; id < h.slabs.idEnd(); id++) {
            if (h.slabs.byId(id) != null) {
                registered++;
            }
        }
        if (registered != slabsSeen) {
            problems.add("slab registry holds " + registered + " slabs, the page map " + slabsSeen);
        }
        if (!cached.isEmpty()) {
            problems.add(cached.size() + " cached blocks lie in no slab or large run, e.g. heap offset " + cached.iterator().next());
        }
    }

    private static void checkTail(PageMap map, long p, long n, int kind, List<String> problems) {
        long head = map.get(p);
        if (n == 1) {
            if (!PageMap.isTail(head)) {
                problems.add("one-page run at page " + p + " lacks its tail mark");
            }
            return;
        }
        long tail = map.get(p + n - 1);
        if (PageMap.kind(tail) != kind || !PageMap.isTail(tail) || PageMap.pages(tail) != n) {
            problems.add("run at page " + p + " (" + n + " pages): tail entry 0x" + Long.toHexString(tail) + " does not match");
        }
    }

    private static void checkRawSlab(PageMap map, LiveMap live, long p, long e, boolean counts, List<String> problems) {
        int cls = PageMap.cls(e);
        int npages = SizeClasses.slabPages(cls);
        if (!slabPagesAgree(map, p, e, npages, problems)) {
            return;
        }
        long start = p << SizeClasses.LG_PAGE;
        noLiveBits(live, start, start + ((long) npages << SizeClasses.LG_PAGE), (int) SizeClasses.size(cls), problems,
                "slab at page " + p);
        if (counts) {
            // a slab spans whole 64-bit words of the live map (1 KiB of heap each, slabs are whole pages), and bits
            // off region starts were reported above: count the words' bits
            long marked = 0;
            long words = ((long) npages << SizeClasses.LG_PAGE) >>> (SizeClasses.LG_QUANTUM + 6);
            long first = start >>> (SizeClasses.LG_QUANTUM + 6);
            for (long w = 0; w < words; w++) {
                marked += Long.bitCount(live.word(first + w));
            }
            long recorded = PageMap.restCount(e);
            if (recorded != marked) {
                problems.add("slab at page " + p + " (class " + cls + ", " + SizeClasses.slabRegions(cls) + " regions) had "
                        + recorded + " regions in use at close, but " + marked + " are marked handed out");
            }
        }
    }

    /**
     * Why heap offset {@code off} (in the heap, quantum-aligned, its live bit clear) is no block to free: inside a live
     * small block, or (the rest) a double free or never a block. For free's InvalidFreeException, off the fast path.
     */
    static String notLive(Allocator h, long off) {
        long page = off >>> SizeClasses.LG_PAGE;
        long e = h.pageMap.get(page);
        if (PageMap.kind(e) == PageMap.SLAB) {
            long block = regionAt(off, (page - PageMap.distance(e)) << SizeClasses.LG_PAGE, PageMap.cls(e));
            boolean handedOut = block >= 0 && h.live.isSet(block) && !h.hasFreeKey(block); // not resting in a thread cache
            if (block != off && handedOut) {
                return "address is inside the block at 0x" + Long.toHexString(h.heapAddr + block) + " ("
                        + SizeClasses.size(PageMap.cls(e)) + " bytes), not its start";
            }
        }
        return "double free, or no block was allocated at this address";
    }

    /**
     * The heap offset of the region of the slab of class {@code cls} at heap offset {@code slabStart} that holds heap
     * offset {@code off}; -1 past the slab's last region.
     */
    private static long regionAt(long off, long slabStart, int cls) {
        long size = SizeClasses.size(cls);
        long region = (off - slabStart) / size;
        return region < SizeClasses.slabRegions(cls) ? slabStart + region * size : -1;
    }

    /** Why a root at pool offset {@code off} cannot name a block, judged from the layout alone; null if it may. */
    private static String rootOutsideHeap(long off, PoolLayout layout, long heapPages) {
        if (off == 0) {
            return null;
        }
        if (off < 0 || off >= layout.maxSize) {
            return "lies outside the pool";
        }
        if (off < layout.heapOffset) {
            return "lies in the pool's metadata, not in a block";
        }
        if (off >= layout.heapOffset + (heapPages << SizeClasses.LG_PAGE)) {
            return "lies past the end of the heap";
        }
        if (((off - layout.heapOffset) & (SizeClasses.QUANTUM - 1)) != 0) {
            return "is not the start of a block (unaligned)";
        }
        return null;
    }

    /** Why a root at heap offset {@code root}, inside the run of {@code n} pages at page p, names no live block. */
    private static String rootInRun(Allocator h, LiveMap live, long root, long p, long n, long e) {
        long start = p << SizeClasses.LG_PAGE;
        switch (PageMap.kind(e)) {
            case PageMap.FREE:
                return "points into a free page run (page " + p + ", " + n + " pages)";
            case PageMap.LARGE:
                if (root != start) {
                    return "points into the middle of the large block at page " + p;
                }
                break;
            case PageMap.SLAB:
                if (regionAt(root, start, PageMap.cls(e)) != root) {
                    return "points into the middle of a region of the slab at page " + p;
                }
                break;
            default:
                return "points into a page of unknown kind";
        }
        if (!live.isSet(root)) {
            return "names a block that is not handed out (free)";
        }
        if (h != null && h.hasFreeKey(root)) {
            return "names a freed block (resting in a thread cache)";
        }
        return null;
    }

    /** Every page of the slab headed at p names the head's slab id, its distance and the class. */
    private static boolean slabPagesAgree(PageMap map, long p, long e, int npages, List<String> problems) {
        int id = PageMap.slabId(e);
        int cls = PageMap.cls(e);
        boolean ok = true;
        for (int i = 1; i < npages; i++) {
            long pe = map.get(p + i);
            if (PageMap.kind(pe) != PageMap.SLAB || PageMap.slabId(pe) != id || PageMap.distance(pe) != i || PageMap.cls(pe) != cls) {
                problems.add("page " + (p + i) + " of slab " + id + " has entry 0x" + Long.toHexString(pe));
                ok = false;
            }
        }
        return ok;
    }

    private static void checkSlab(Allocator h, long p, long e, Set<Long> cached, List<String> problems) {
        int cls = PageMap.cls(e);
        int id = PageMap.slabId(e);
        Slab s = h.slabs.byId(id);
        if (s == null || s.startPage != p || s.cls != cls) {
            problems.add("slab at page " + p + " (id " + id + ", class " + cls + ") is not registered as such");
            return;
        }
        int npages = SizeClasses.slabPages(cls);
        slabPagesAgree(h.pageMap, p, e, npages, problems);
        int avail = 0;
        for (int i = 0; i < s.nregs; i++) {
            long off = s.heapOffset + (long) i * s.regionSize;
            boolean handedOut = h.live.isSet(off);
            boolean free = s.isAvailable(i);
            boolean inCache = cached.remove(off);
            if (handedOut == free) {
                problems.add("region " + i + " of slab at page " + p + (free ? " is available yet marked handed out"
                        : " is neither available nor marked handed out (lost)"));
            } else if (inCache && !handedOut) {
                problems.add("region " + i + " of slab at page " + p + " is cached but available in its slab");
            } else if (!inCache && handedOut && h.hasFreeKey(off)) {
                problems.add("region " + i + " of slab at page " + p + " carries the free key but is in no thread cache");
            }
            avail += free ? 1 : 0;
        }
        if (avail != s.nfree) {
            problems.add("slab at page " + p + " counts " + s.nfree + " free regions, its bitmap " + avail);
        }
        long start = p << SizeClasses.LG_PAGE;
        noLiveBits(h.live, start, start + ((long) npages << SizeClasses.LG_PAGE), s.regionSize, problems, "slab at page " + p);
    }

    /** Reports live bits in [from, to) except at multiples of {@code stride} from {@code from} (stride -1: none allowed). */
    private static void noLiveBits(LiveMap live, long from, long to, int stride, List<String> problems, String what) {
        long g = from >>> SizeClasses.LG_QUANTUM;
        long end = to >>> SizeClasses.LG_QUANTUM;
        while (g < end) {
            long word = live.word(g >>> 6);
            if (word == 0) {
                g = (g | 63) + 1;
                continue;
            }
            if ((word & (1L << g)) != 0) {
                long off = g << SizeClasses.LG_QUANTUM;
                if (stride < 0 || (off - from) % stride != 0) {
                    problems.add(what + ": stray live bit at heap offset " + off);
                    return;
                }
            }
            g++;
        }
    }
}
