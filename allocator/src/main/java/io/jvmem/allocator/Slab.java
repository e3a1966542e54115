package io.jvmem.allocator;

/**
 * A run of pages cut into equal regions of one small size class. The pool holds only the slab's page-map entries
 * and the live bits of its regions; this object is the arena's index of which regions are available (not live and
 * not sitting in a thread cache), rebuilt from the live bits when a pool is reopened.
 *
 * <p>Guarded by the owning arena's lock, except {@link #tags}, which is written only by the thread that holds the
 * block (its live bit) at the time.
 */
final class Slab implements Comparable<Slab> {
    final int id;
    final int cls;
    final long startPage;
    final long heapOffset; // heap-relative byte offset of region 0
    final int regionSize;
    /** ceil(2^32 / regionSize), see {@link #regionIndex}. */
    private final long magic;
    final int nregs;
    final HeapArena arena;
    /** Bit i set: region i is available. */
    final long[] avail;
    int nfree;
    private int hint;
    /** Tag of each region's current block; null while no tagged block was ever placed here. */
    volatile char[] tags;
    /** Whether this slab is in its arena's non-full set. */
    boolean listed;

    Slab(int id, int cls, long startPage, HeapArena arena) {
        this.id = id;
        this.cls = cls;
        this.startPage = startPage;
        this.heapOffset = startPage * SizeClasses.PAGE;
        this.regionSize = (int) SizeClasses.size(cls);
        this.magic = ((1L << 32) + regionSize - 1) / regionSize;
        this.nregs = SizeClasses.slabRegions(cls);
        this.arena = arena;
        this.avail = new long[(nregs + 63) >>> 6];
        for (int i = 0; i < nregs; i++) {
            avail[i >>> 6] |= 1L << i;
        }
        this.nfree = nregs;
    }

    /** Takes the lowest available region; returns its heap offset, or -1 when full. */
    long take() {
        for (int w = hint; w < avail.length; w++) {
            long bits = avail[w];
            if (bits != 0) {
                int b = Long.numberOfTrailingZeros(bits);
                avail[w] = bits & (bits - 1);
                nfree--;
                hint = w;
                return heapOffset + (long) ((w << 6) + b) * regionSize;
            }
        }
        return -1;
    }

    /** Makes the region at heap offset {@code off} available again; false if it already was (corruption). */
    boolean give(long off) {
        int i = regionIndex(off);
        long mask = 1L << i;
        int w = i >>> 6;
        if ((avail[w] & mask) != 0) {
            return false;
        }
        avail[w] |= mask;
        nfree++;
        if (w < hint) {
            hint = w;
        }
        return true;
    }

    /** Marks a region as unavailable while rebuilding from live bits. */
    void markTaken(int i) {
        long mask = 1L << i;
        if ((avail[i >>> 6] & mask) != 0) {
            avail[i >>> 6] &= ~mask;
            nfree--;
        }
    }

    boolean isAvailable(int i) {
        return (avail[i >>> 6] & (1L << i)) != 0;
    }

    /**
     * Index of the region starting at {@code off}, by multiplying with a rounded-up reciprocal of the region size
     * instead of dividing (as jemalloc's div_info): exact for region starts, since index × (size × magic - 2^32)
     * stays below 2^32 for every slab (index < 2^12, size < 2^14).
     */
    int regionIndex(long off) {
        return (int) (((off - heapOffset) * magic) >>> 32);
    }

    boolean isRegionStart(long off) {
        long d = off - heapOffset;
        return d >= 0 && d % regionSize == 0 && d / regionSize < nregs;
    }

    /** Small enough to inline into malloc and free; the first tag's array is made out of line. */
    void setTag(long off, int tag) {
        char[] t = tags;
        if (t == null) {
            if (tag == 0) {
                return;
            }
            t = tagArray();
        }
        t[regionIndex(off)] = (char) tag;
    }

    /** The tag of the block at {@code off} (a typed free's check, with the debugging aids). */
    int tag(long off) {
        char[] t = tags;
        return t == null ? 0 : t[regionIndex(off)];
    }

    /** The tag of the block at {@code off}, cleared: one index computation for the free path. */
    int takeTag(long off) {
        char[] t = tags;
        if (t == null) {
            return 0;
        }
        int i = regionIndex(off);
        int tag = t[i];
        if (tag != 0) {
            t[i] = 0;
        }
        return tag;
    }

    private synchronized char[] tagArray() {
        char[] t = tags;
        if (t == null) {
            t = new char[nregs];
            tags = t;
        }
        return t;
    }

    @Override
    public int compareTo(Slab o) {
        return Long.compare(startPage, o.startPage);
    }
}
