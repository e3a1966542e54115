package io.jvmem.allocator;

import java.util.ArrayList;
import java.util.List;

/**
 * Rebuilding a reopened pool's in-heap indexes from what the pool keeps (page map and live bits): free runs, slabs
 * and their taken regions, and the counters of blocks found live.
 */
final class Rebuild {
    private Rebuild() {
    }

    /**
     * The walk only reads the page map (registering a slab rewrites its own pages with the same layout); slabs are
     * adopted, which may free a surplus empty one, only after the walk: freeing coalesces with the next free run and
     * overwrites that run's head when it is one page long (its head is also its tail), so a walk still in progress
     * would step onto a non-head entry. Returns false if the page map does not describe the heap.
     */
    static boolean rebuild(Allocator h) {
        if (!h.pages.rebuild()) {
            return false;
        }
        PageMap pageMap = h.pageMap;
        List<Slab> found = new ArrayList<>();
        long p = 0;
        int next = 0;
        while (p < pageMap.pages) {
            long e = pageMap.get(p);
            long n = PageAllocator.runLength(p, e);
            if (n <= 0 || p + n > pageMap.pages) {
                return false;
            }
            if (PageMap.kind(e) == PageMap.SLAB) {
                Slab s = h.slabs.register(PageMap.cls(e), p, h.arenas[next++ % h.arenas.length]);
                for (int i = 0; i < s.nregs; i++) {
                    long off = s.heapOffset + (long) i * s.regionSize;
                    if (h.live.isSet(off)) {
                        s.markTaken(i);
                        h.accounting.inherit(h.caches.retired, s.cls, SizeClasses.size(s.cls));
                    }
                }
                found.add(s);
            } else if (PageMap.kind(e) == PageMap.LARGE) {
                int cls = PageMap.cls(e);
                if (PageMap.tag(e) != 0) {
                    // tags are the process's: a free in this session would take the run's bytes from whatever tag
                    // has this id now (its block counts as untagged); same run length, so the walk reads on as before
                    pageMap.set(p, PageMap.withTag(e, 0));
                }
                h.accounting.inherit(h.caches.retired, cls == PageMap.HUGE_CLASS ? -1 : cls, n << SizeClasses.LG_PAGE);
            }
            p += n;
        }
        for (Slab s : found) {
            s.arena.adopt(s);
        }
        h.tags.publishTotal(h.accounting.inheritedBytes, h.accounting.inheritedBytes);
        return true;
    }
}
