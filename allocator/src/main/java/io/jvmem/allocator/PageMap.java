package io.jvmem.allocator;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One 64-bit entry per heap page, stored in the pool. Runs of pages are described by their first (HEAD) and last
 * (TAIL) entries, so neighbours can be coalesced in O(1); interior entries of free and large runs are stale and never
 * read. Every page of a slab carries its distance to the slab head, so a small block finds its slab in O(1).
 *
 * <pre>
 *  63            32 31          16 15      8 7   6   5     4     3    2    1  0
 *  +---------------+--------------+---------+-----+-----+-----+----+----+-----+
 *  | pages/slab id | tag/distance |  class  |  0  |DCMT |ZERO |TAIL|HEAD| kind|
 *  +---------------+--------------+---------+-----+-----+-----+----+----+-----+
 *  kind: 0 free run, 1 large run (one block), 2 slab; 3 is never written
 *  free run head/tail: pages = run length, ZERO = every page reads as zero, DCMT = some pages were punched out
 *     and must be reserved again before use, tag/distance = decay epoch (100 ms units) when it became dirty
 *  large head/tail:    pages = run length, class = size class or 255 (huge), tag = allocation tag
 *  slab page:          slab id, distance = pages from the slab head, class = small size class
 * </pre>
 * Slab ids are an index into the open allocator's slab table and mean nothing after a close. So at a clean close
 * (format 2.1 on) every page of a slab carries in that field instead the number of its regions in use: a second
 * record, beside the live bits, of what the slab holds, which the open-time check compares with them (see
 * {@link #restCount}). Reopening registers the slab and writes its new id over the count.
 */
final class PageMap {
    static final int FREE = 0;
    static final int LARGE = 1;
    static final int SLAB = 2;
    static final long HEAD = 1L << 2;
    static final long TAIL = 1L << 3;
    static final long ZERO = 1L << 4;
    static final long DECOMMITTED = 1L << 5;
    static final int HUGE_CLASS = 255;

    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;

    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    /** Absolute address of entry 0; entries are read through the static all-memory segment (cheapest access). */
    private final long base;
    /** Heap pages in use: the heap's current size (a growable pool's grows, under the page allocator's lock). */
    volatile long pages;

    PageMap(MemorySegment pool, PoolLayout layout, long pages) {
        this.base = pool.address() + layout.pageMapOffset;
        this.pages = pages;
    }

    /** Entry of a heap page; callers keep {@code page} below {@link #pages}. */
    long get(long page) {
        return ALL.get(LONG, base + (page << 3));
    }

    void set(long page, long entry) {
        ALL.set(LONG, base + (page << 3), entry);
    }

    static long free(long pages, long flags, int epoch) {
        return FREE | flags | ((long) (epoch & 0xffff) << 16) | (pages << 32);
    }

    static long large(long pages, int cls, int tag, long headOrTail) {
        return LARGE | headOrTail | ((long) cls << 8) | ((long) (tag & 0xffff) << 16) | (pages << 32);
    }

    static long slab(int slabId, int cls, int distance) {
        return SLAB | (distance == 0 ? HEAD : 0) | ((long) cls << 8) | ((long) distance << 16) | ((long) slabId << 32);
    }

    /** A slab page of a cleanly closed pool: the slab's regions in use where an open pool keeps the slab id. */
    static long slabAtRest(int inUse, int cls, int distance) {
        return slab(inUse, cls, distance);
    }

    /** Regions in use recorded in a slab page at a clean close (format 2.1 on); the slab id while the pool is open. */
    static long restCount(long e) {
        return e >>> 32;
    }

    static int kind(long e) {
        return (int) (e & 3);
    }

    static boolean isHead(long e) {
        return (e & HEAD) != 0;
    }

    static boolean isTail(long e) {
        return (e & TAIL) != 0;
    }

    static int cls(long e) {
        return (int) (e >>> 8) & 0xff;
    }

    static int tag(long e) {
        return (int) (e >>> 16) & 0xffff;
    }

    static long pages(long e) {
        return e >>> 32;
    }

    static int slabId(long e) {
        return (int) (e >>> 32);
    }

    static int distance(long e) {
        return (int) (e >>> 16) & 0xffff;
    }

    static long withTag(long e, int tag) {
        return (e & ~(0xffffL << 16)) | ((long) (tag & 0xffff) << 16);
    }
}
