package io.jvmem.allocator;

import java.util.Iterator;
import java.util.TreeSet;

/**
 * Hands out runs of whole heap pages: slabs, page-run classes and huge extents. Best fit, lowest address first
 * (free runs ordered by (length, start)), which keeps fragmentation low for mixed sizes; freed runs coalesce at
 * once with free neighbours through the page map's head/tail entries.
 *
 * <p><b>Decay.</b> A freed run is dirty: its pages hold old data and occupy file space. When a run has stayed free for
 * the decay time, {@link #purge} punches it out of the file ({@link Backing#punch}); it is then ZERO (reads as zero,
 * so calloc skips zeroing) and DECOMMITTED (its space must be reserved again before use, or a full file system would
 * raise SIGBUS on first touch instead of a clean out-of-memory). Fresh pools start ZERO and committed.
 *
 * <p>One lock: the thread caches and arenas in front of it take it only on misses.
 */
final class PageAllocator {
    private final PageMap map;
    private final Backing backing;
    private final long heapOffset;
    private final TreeSet<Long> freeRuns = new TreeSet<>();
    private long freePages;
    private long dirtyPages;
    private long purgedPages;
    private long purges;

    /** Null for a heap of fixed size. */
    private HeapGrowth growth;

    PageAllocator(PageMap map, Backing backing, long heapOffset) {
        this.map = map;
        this.backing = backing;
        this.heapOffset = heapOffset;
    }

    void setGrowth(HeapGrowth growth) {
        this.growth = growth;
    }

    /** Chunks the heap is made of (see {@link HeapGrowth}). */
    int chunks() {
        HeapGrowth g = growth;
        return g == null ? 1 : g.chunkCount();
    }

    /**
     * Adds heap pages [oldPages, newPages), just grown and reserved, reading as zero, as a free run (joined to a free
     * run that ends the heap).
     */
    private void extend(long oldPages, long newPages) {
        map.pages = newPages;
        long start = oldPages;
        long len = newPages - oldPages;
        long flags = PageMap.ZERO;
        int epoch = epochNow();
        if (oldPages > 0) {
            long prev = map.get(oldPages - 1);
            if (PageMap.kind(prev) == PageMap.FREE && PageMap.isTail(prev)) {
                long plen = PageMap.pages(prev);
                long phead = map.get(oldPages - plen);
                unindex(oldPages - plen, plen, phead);
                flags = phead & (PageMap.ZERO | PageMap.DECOMMITTED);
                epoch = PageMap.tag(phead);
                start = oldPages - plen;
                len += plen;
            }
        }
        insert(start, len, flags, epoch);
    }

    /** Formats the whole heap as one free run. */
    synchronized void format(boolean zero) {
        freeRuns.clear();
        freePages = 0;
        dirtyPages = 0;
        insert(0, map.pages, zero ? PageMap.ZERO : 0, epochNow());
    }

    /** Rebuilds the index from the page map (a pool reopened); returns false if the runs do not tile the heap. */
    synchronized boolean rebuild() {
        freeRuns.clear();
        freePages = 0;
        dirtyPages = 0;
        long p = 0;
        while (p < map.pages) {
            long e = map.get(p);
            long n = runLength(p, e);
            if (n <= 0 || p + n > map.pages) {
                return false;
            }
            if (PageMap.kind(e) == PageMap.FREE) {
                index(p, n, e);
            }
            p += n;
        }
        return true;
    }

    /** Length of the run whose head is page p (entry e), or -1 if p is not a head. */
    static long runLength(long p, long e) {
        if (!PageMap.isHead(e)) {
            return -1;
        }
        return switch (PageMap.kind(e)) {
            case PageMap.FREE, PageMap.LARGE -> PageMap.pages(e);
            case PageMap.SLAB -> PageMap.distance(e) == 0 && PageMap.cls(e) < SizeClasses.NSMALL
                    ? SizeClasses.slabPages(PageMap.cls(e)) : -1;
            default -> -1;
        };
    }

    private static long key(long pages, long start) {
        return (pages << 32) | start;
    }

    static int epochNow() {
        return (int) (System.nanoTime() / 100_000_000L) & 0xffff;
    }

    private void insert(long start, long pages, long flags, int epoch) {
        long head = PageMap.free(pages, flags | PageMap.HEAD | (pages == 1 ? PageMap.TAIL : 0), epoch);
        map.set(start, head);
        if (pages > 1) {
            map.set(start + pages - 1, PageMap.free(pages, flags | PageMap.TAIL, epoch));
        }
        index(start, pages, head);
    }

    private void index(long start, long pages, long head) {
        freeRuns.add(key(pages, start));
        freePages += pages;
        if ((head & PageMap.ZERO) == 0) {
            dirtyPages += pages;
        }
    }

    private void unindex(long start, long pages, long head) {
        freeRuns.remove(key(pages, start));
        freePages -= pages;
        if ((head & PageMap.ZERO) == 0) {
            dirtyPages -= pages;
        }
    }

    /**
     * Takes {@code pages} pages aligned so that the run's address is a multiple of {@code alignBytes} (a power of two,
     * at least a page), writes a LARGE head/tail for it and returns its first page, or -1 if no run fits.
     * {@code zeroOut[0]} tells the caller whether the run reads as zero.
     */
    synchronized long alloc(long pages, long alignBytes, int cls, int tag, boolean[] zeroOut) {
        long at = find(pages, alignBytes);
        if (at == -2 && growth != null) {
            long slack = alignBytes > SizeClasses.PAGE ? alignBytes / SizeClasses.PAGE : 0;
            long old = map.pages;
            long last = old > 0 ? map.get(old - 1) : 0;
            long trailing = old > 0 && PageMap.kind(last) == PageMap.FREE && PageMap.isTail(last) ? PageMap.pages(last) : 0;
            long grown = growth.grow(old, Math.max(1, pages + slack - trailing)); // the new chunk joins a free run at the end
            if (grown > old) {
                extend(old, grown);
                at = find(pages, alignBytes);
            }
        }
        return at < 0 ? -1 : take(at, pages, alignBytes, cls, tag, zeroOut);
    }

    /** First page of the free run best fitting {@code pages} at {@code alignBytes}, -2 if none fits. */
    private long find(long pages, long alignBytes) {
        for (Long k : freeRuns.tailSet(key(pages, 0))) {
            long start = k & 0xffffffffL;
            long len = k >>> 32;
            long aligned = alignedStart(start, alignBytes);
            if (aligned + pages <= start + len) {
                return start;
            }
            if (alignBytes <= SizeClasses.PAGE) {
                break; // unreachable: any run at least `pages` long fits
            }
        }
        return -2;
    }

    /** Takes {@code pages} aligned out of the free run headed at {@code start}; -1 if they cannot be reserved. */
    private long take(long start, long pages, long alignBytes, int cls, int tag, boolean[] zeroOut) {
        long at = alignedStart(start, alignBytes);
        long head = map.get(start);
        long len = PageMap.pages(head);
        unindex(start, len, head);
        long flags = head & (PageMap.ZERO | PageMap.DECOMMITTED);
        int epoch = PageMap.tag(head);
        if (!backing.reserveUpTo(heapOffset + (at + pages) * SizeClasses.PAGE)) {
            insert(start, len, flags, epoch);
            return -1;
        }
        if ((flags & PageMap.DECOMMITTED) != 0
                && !backing.commit(heapOffset + at * SizeClasses.PAGE, pages * SizeClasses.PAGE)) {
            insert(start, len, flags, epoch);
            return -1;
        }
        if (at > start) {
            insert(start, at - start, flags, epoch);
        }
        long tailStart = at + pages;
        if (tailStart < start + len) {
            insert(tailStart, start + len - tailStart, flags, epoch);
        }
        writeLarge(at, pages, cls, tag);
        zeroOut[0] = (flags & PageMap.ZERO) != 0;
        return at;
    }

    private long alignedStart(long start, long alignBytes) {
        if (alignBytes <= SizeClasses.PAGE) {
            return start;
        }
        long abs = heapAddressBase + start * SizeClasses.PAGE;
        long alignedAbs = (abs + alignBytes - 1) & -alignBytes;
        return start + (alignedAbs - abs) / SizeClasses.PAGE;
    }

    /**
     * Whether {@code bytes} at {@code alignBytes} fit anywhere in a heap of {@code maxHeapBytes}, used or not: false
     * when no address in it meets the alignment with room after it, which no free or growth changes.
     */
    boolean placeable(long bytes, long alignBytes, long maxHeapBytes) {
        long pages = (bytes + SizeClasses.PAGE - 1) / SizeClasses.PAGE;
        return alignBytes <= SizeClasses.PAGE || alignedStart(0, alignBytes) + pages <= maxHeapBytes / SizeClasses.PAGE;
    }

    /** Absolute address of heap page 0; only alignment arithmetic uses it. */
    private long heapAddressBase;

    void setHeapAddress(long heapAddress) {
        this.heapAddressBase = heapAddress;
    }

    void writeLarge(long start, long pages, int cls, int tag) {
        map.set(start, PageMap.large(pages, cls, tag, PageMap.HEAD | (pages == 1 ? PageMap.TAIL : 0)));
        if (pages > 1) {
            map.set(start + pages - 1, PageMap.large(pages, cls, tag, PageMap.TAIL));
        }
    }

    /**
     * Extends the large run of {@code oldPages} at {@code start} to {@code newPages} with the free pages right after
     * it (jemalloc's large expand): they are reserved and committed as for {@link #alloc}, and the run's head and tail
     * rewritten with {@code cls} and {@code tag}. Returns false, having changed nothing, when the next run is not free
     * or too short, or the file system has no room.
     */
    synchronized boolean grow(long start, long oldPages, long newPages, int cls, int tag) {
        long next = start + oldPages;
        long need = newPages - oldPages;
        if (next >= map.pages) {
            return false;
        }
        long head = map.get(next);
        if (PageMap.kind(head) != PageMap.FREE || !PageMap.isHead(head) || PageMap.pages(head) < need) {
            return false;
        }
        long len = PageMap.pages(head);
        long flags = head & (PageMap.ZERO | PageMap.DECOMMITTED);
        int epoch = PageMap.tag(head);
        if (!backing.reserveUpTo(heapOffset + (start + newPages) * SizeClasses.PAGE)) {
            return false;
        }
        if ((flags & PageMap.DECOMMITTED) != 0 && !backing.commit(heapOffset + next * SizeClasses.PAGE, need * SizeClasses.PAGE)) {
            return false;
        }
        unindex(next, len, head);
        if (len > need) {
            insert(next + need, len - need, flags, epoch);
        }
        writeLarge(start, newPages, cls, tag);
        return true;
    }

    /**
     * Cuts the large run of {@code oldPages} at {@code start} down to {@code newPages} (jemalloc's large shrink): the
     * run keeps its start with {@code cls} and {@code tag}, its tail pages go back to the free set.
     */
    synchronized void shrink(long start, long oldPages, long newPages, int cls, int tag) {
        writeLarge(start, newPages, cls, tag); // first: free() looks at the page before the tail to coalesce
        free(start + newPages, oldPages - newPages);
    }

    /** Returns a run to the free set, coalescing with free neighbours. The run becomes dirty. */
    synchronized void free(long start, long pages) {
        long flags = 0;
        if (start > 0) {
            long prev = map.get(start - 1);
            if (PageMap.kind(prev) == PageMap.FREE && PageMap.isTail(prev)) {
                long plen = PageMap.pages(prev);
                long pstart = start - plen;
                long phead = map.get(pstart);
                unindex(pstart, plen, phead);
                flags |= phead & PageMap.DECOMMITTED;
                start = pstart;
                pages += plen;
            }
        }
        long end = start + pages;
        if (end < map.pages) {
            long next = map.get(end);
            if (PageMap.kind(next) == PageMap.FREE && PageMap.isHead(next)) {
                long nlen = PageMap.pages(next);
                unindex(end, nlen, next);
                flags |= next & PageMap.DECOMMITTED;
                pages += nlen;
            }
        }
        insert(start, pages, flags, epochNow());
    }

    /**
     * Punches every dirty free run that has been free for at least {@code decayEpochs} (100 ms units). Returns the
     * number of pages punched.
     */
    synchronized long purge(int decayEpochs) {
        if (!backing.canPunch() || dirtyPages == 0) {
            return 0;
        }
        int now = epochNow();
        long punched = 0;
        long[] todo = new long[16];
        int n = 0;
        for (Iterator<Long> it = freeRuns.iterator(); it.hasNext(); ) {
            long k = it.next();
            long start = k & 0xffffffffL;
            long head = map.get(start);
            if ((head & PageMap.ZERO) != 0) {
                continue;
            }
            int age = (now - PageMap.tag(head)) & 0xffff;
            if (age >= decayEpochs) {
                if (n == todo.length) {
                    todo = java.util.Arrays.copyOf(todo, n * 2);
                }
                todo[n++] = k;
            }
        }
        for (int i = 0; i < n; i++) {
            long start = todo[i] & 0xffffffffL;
            long len = todo[i] >>> 32;
            long head = map.get(start);
            if (backing.punch(heapOffset + start * SizeClasses.PAGE, len * SizeClasses.PAGE)) {
                unindex(start, len, head);
                insert(start, len, (head & PageMap.DECOMMITTED) | PageMap.ZERO | PageMap.DECOMMITTED, PageMap.tag(head));
                punched += len;
            }
        }
        if (punched > 0) {
            purgedPages += punched;
            purges++;
        }
        return punched;
    }

    synchronized long freePages() {
        return freePages;
    }

    synchronized long dirtyPages() {
        return dirtyPages;
    }

    synchronized long purgedPages() {
        return purgedPages;
    }

    synchronized long purges() {
        return purges;
    }

    synchronized long largestFreeRun() {
        long best = 0;
        for (Long k : freeRuns.descendingSet()) {
            return k >>> 32;
        }
        return best;
    }

    synchronized int freeRunCount() {
        return freeRuns.size();
    }

    /** For the consistency check: is (start, pages) indexed as a free run? */
    synchronized boolean isIndexed(long start, long pages) {
        return freeRuns.contains(key(pages, start));
    }
}
