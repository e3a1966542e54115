package io.jvmem.allocator;

/**
 * Per-thread stacks of free blocks, one per size class up to the cache limit, so that a malloc/free pair in steady
 * state touches no lock: malloc pops, free pushes. A miss fills half a stack from the thread's arena (small classes)
 * or takes one run from the page allocator (page-run classes); an overflow flushes the older half back. Only the
 * owning thread touches a cache, except after that thread died (then the pool's maintenance thread drains it).
 *
 * <p>Also the per-thread statistics counters, plain longs written by the owner only: summing them without locks
 * gives snapshots that may lag by a few operations, as jemalloc's do.
 */
final class ThreadCache {
    final Thread owner;
    /** The pool's caches this one belongs to: a cache handed back as a hint ({@link ThreadCaches#enter(Object, ThreadCache[])}) must be this pool's. */
    final ThreadCaches home;
    final HeapArena arena;
    final long[][] bins;
    final int[] counts;
    final int[] caps;
    /** Per class (plus one slot for huge): blocks handed out and taken back through this thread. */
    final long[] nmalloc = new long[SizeClasses.NCLASSES + 1];
    final long[] nfree = new long[SizeClasses.NCLASSES + 1];
    /** Bytes of huge blocks handed out minus taken back through this thread (classes count blocks, not bytes). */
    long hugeBytes;
    /**
     * Per tag id: this thread's counters of that tag, null until the thread first counts it. An object per tag, not a
     * strided long[]: its four counters sit at fixed offsets, so a tagged malloc or free checks one index, not four.
     */
    TagSlot[] tagSlots = new TagSlot[8];

    /**
     * One tag's counters in one thread: {@link #pending} bytes not yet published to the tag's global counter,
     * {@link #pendingMax} the highest pending value since the last publication (makes peaks exact per thread),
     * {@link #requests} and {@link #bytes} (usable bytes handed out, cumulative). Written by the owner only; read
     * without locks by statistics, which may lag by a few operations.
     */
    static final class TagSlot {
        long pending;
        long pendingMax;
        long requests;
        long bytes;
    }
    /** Usable bytes of untagged blocks handed out (cumulative; each tag counts its own in its {@link TagSlot}). */
    long untaggedBytes;
    /** All blocks: the unpublished in-use delta and its maximum. */
    long allPending;
    long allPendingMax;
    /** Operations of this cache's thread in flight (gated pools); written by the owner, read by a closing thread. */
    int busy;
    /** Set by another thread that ran out of memory: give everything back at the next slow path. */
    volatile boolean flushRequested;
    /** Whether the run last taken by the slow path reads as zero (so calloc can skip zeroing). */
    boolean lastZero;

    /** Bytes of page-run blocks cached here, and their bound. */
    long largeBytes;
    final long maxLargeBytes;

    ThreadCache(Thread owner, ThreadCaches home, HeapArena arena, int maxClass) {
        this(owner, home, arena, maxClass, 4L << 20);
    }

    ThreadCache(Thread owner, ThreadCaches home, HeapArena arena, int maxClass, long maxLargeBytes) {
        this.maxLargeBytes = maxLargeBytes;
        this.owner = owner;
        this.home = home;
        this.arena = arena;
        int n = maxClass + 1;
        this.bins = new long[n][];
        this.counts = new int[n];
        this.caps = new int[n];
        for (int c = 0; c < n; c++) {
            long size = SizeClasses.size(c);
            int cap = SizeClasses.isSmall(c)
                    ? (int) Math.max(4, Math.min(64, (64 * 1024) / size))
                    : (int) Math.max(2, Math.min(8, (1L << 20) / size));
            caps[c] = cap;
            bins[c] = new long[cap];
        }
    }

    /** Pops a cached block of class {@code cls}; -1 if the stack is empty or the class is not cached. */
    long pop(int cls) {
        if (cls >= counts.length) {
            return -1;
        }
        int n = counts[cls];
        if (n == 0) {
            return -1;
        }
        counts[cls] = n - 1;
        if (cls >= SizeClasses.NSMALL) {
            largeBytes -= SizeClasses.size(cls);
        }
        return bins[cls][n - 1];
    }

    /** Pushes a block; false if the class is not cached here or the stack is full (caller flushes then retries). */
    boolean push(int cls, long off) {
        if (cls >= counts.length) {
            return false;
        }
        int n = counts[cls];
        if (n == caps[cls]) {
            return false;
        }
        bins[cls][n] = off;
        counts[cls] = n + 1;
        if (cls >= SizeClasses.NSMALL) {
            largeBytes += SizeClasses.size(cls);
        }
        return true;
    }

    /**
     * Whether a freed block of a page-run class may stay here: page runs cached by a thread are lost to every other
     * request (and to coalescing), so their total per thread is bounded, not only their count per class.
     */
    boolean roomFor(int cls) {
        return cls < SizeClasses.NSMALL || largeBytes + SizeClasses.size(cls) <= maxLargeBytes;
    }

    /** Called when {@code n} blocks of class {@code cls} left the stack other than by {@link #pop}. */
    void removed(int cls, int n) {
        if (cls >= SizeClasses.NSMALL) {
            largeBytes -= n * SizeClasses.size(cls);
        }
    }

    boolean caches(int cls) {
        return cls < counts.length;
    }

    /** How many tags {@link #tagSlots} has room for. */
    int tagCapacity() {
        return tagSlots.length;
    }

    /** This thread's counters of {@code tag}, made (and the table grown) on first use. */
    TagSlot tagSlot(int tag) {
        TagSlot[] t = tagSlots;
        if (tag >= t.length) {
            t = java.util.Arrays.copyOf(t, Math.max(tag + 1, t.length * 2));
            tagSlots = t;
        }
        TagSlot s = t[tag];
        if (s == null) {
            s = new TagSlot();
            t[tag] = s;
        }
        return s;
    }

    long cachedBytes() {
        long b = 0;
        for (int c = 0; c < counts.length; c++) {
            b += counts[c] * SizeClasses.size(c);
        }
        return b;
    }
}
