package io.jvmem.allocator;

import java.util.TreeSet;

/**
 * Small-class slabs for a subset of threads (jemalloc's arena; named so as not to clash with
 * {@link java.lang.foreign.Arena}). Several arenas let threads that miss their caches at the same time take
 * different locks. Regions are handed out lowest-address-first from the lowest non-full slab, which keeps live
 * data packed and lets empty slabs go back to the page allocator. One empty slab per class is kept as a spare so a
 * thread that allocates and frees around a slab boundary does not churn pages.
 */
final class HeapArena {
    final int index;
    private final Allocator heap;
    private final Slab[] current = new Slab[SizeClasses.NSMALL];
    @SuppressWarnings("unchecked")
    private final TreeSet<Slab>[] nonFull = new TreeSet[SizeClasses.NSMALL];
    private final Slab[] spare = new Slab[SizeClasses.NSMALL];
    /** Slabs currently owned by this arena, per class (stats). */
    private final long[] slabCount = new long[SizeClasses.NSMALL];

    HeapArena(int index, Allocator heap) {
        this.index = index;
        this.heap = heap;
        for (int i = 0; i < nonFull.length; i++) {
            nonFull[i] = new TreeSet<>();
        }
    }

    /**
     * Fills {@code out[0..max)} with heap offsets of available regions of class {@code cls}; returns how many
     * (0 when the pool has no page left for a new slab).
     */
    synchronized int fill(int cls, long[] out, int max) {
        int n = 0;
        while (n < max) {
            Slab s = current[cls];
            if (s == null || s.nfree == 0) {
                s = nextSlab(cls);
                if (s == null) {
                    break;
                }
                current[cls] = s;
            }
            while (n < max) {
                long off = s.take();
                if (off < 0) {
                    break;
                }
                if (!heap.live.set(off)) {
                    throw new HeapCorruptionException("region at heap offset " + off + " was available but marked handed out");
                }
                out[n++] = off;
            }
        }
        return n;
    }

    private Slab nextSlab(int cls) {
        Slab s = nonFull[cls].pollFirst();
        if (s != null) {
            s.listed = false;
            return s;
        }
        s = spare[cls];
        if (s != null) {
            spare[cls] = null;
            return s;
        }
        s = heap.slabs.newSlab(cls, this);
        if (s != null) {
            slabCount[cls]++;
        }
        return s;
    }

    /** Returns regions (heap offsets, all of class {@code cls}, all slabs of this arena) to their slabs. */
    synchronized void release(long[] offs, int from, int to) {
        for (int i = from; i < to; i++) {
            releaseOne(offs[i]);
        }
    }

    synchronized void releaseOne(long off) {
        Slab s = heap.slabs.slabAt(off);
        heap.eraseFreeKey(off);
        if (!heap.live.clear(off) || !s.give(off)) {
            throw new HeapCorruptionException("region at heap offset " + off + " returned twice to its slab");
        }
        int cls = s.cls;
        if (s == current[cls]) {
            return;
        }
        if (s.nfree == s.nregs) {
            if (s.listed) {
                nonFull[cls].remove(s);
                s.listed = false;
            }
            if (spare[cls] == null) {
                spare[cls] = s;
            } else {
                slabCount[cls]--;
                heap.slabs.freeSlab(s);
            }
        } else if (!s.listed) {
            nonFull[cls].add(s);
            s.listed = true;
        }
    }

    /** Gives every empty slab (spares and empty current slabs) back to the page allocator. */
    synchronized void trim() {
        for (int cls = 0; cls < SizeClasses.NSMALL; cls++) {
            if (spare[cls] != null) {
                slabCount[cls]--;
                heap.slabs.freeSlab(spare[cls]);
                spare[cls] = null;
            }
            Slab c = current[cls];
            if (c != null && c.nfree == c.nregs) {
                current[cls] = null;
                slabCount[cls]--;
                heap.slabs.freeSlab(c);
            }
        }
    }

    /** Adopts a slab found while rebuilding a reopened pool. */
    synchronized void adopt(Slab s) {
        slabCount[s.cls]++;
        if (s.nfree == s.nregs) {
            if (spare[s.cls] == null) {
                spare[s.cls] = s;
            } else {
                slabCount[s.cls]--;
                heap.slabs.freeSlab(s);
            }
        } else if (s.nfree > 0) {
            nonFull[s.cls].add(s);
            s.listed = true;
        }
    }

    synchronized long[] slabCounts() {
        return slabCount.clone();
    }
}
