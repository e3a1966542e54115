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
     * Per tag {@code t}, at {@code t * TAG_STRIDE}: {@link #PENDING} bytes not yet published to the tag's global
     * counter, {@link #PENDING_MAX} the highest pending value since the last publication (makes peaks exact per
     * thread), {@link #REQUESTS} and {@link #BYTES} (usable bytes handed out, cumulative). One array, so that a tagged
     * malloc or free pays one bounds check and touches one cache line.
     */
    long[] tagStats = new long[8 * TAG_STRIDE];
    static final int TAG_STRIDE = 4;
    static final int PENDING = 0;
    static final int PENDING_MAX = 1;
    static final int REQUESTS = 2;
    static final int BYTES = 3;
    /** All blocks: usable bytes handed out (cumulative), and the unpublished in-use delta and its maximum. */
    long allBytes;
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

    ThreadCache(Thread owner, HeapArena arena, int maxClass) {
        this(owner, arena, maxClass, 4L << 20);
    }

    ThreadCache(Thread owner, HeapArena arena, int maxClass, long maxLargeBytes) {
        this.maxLargeBytes = maxLargeBytes;
        this.owner = owner;
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

    /** How many tags {@link #tagStats} has room for. */
    int tagCapacity() {
        return tagStats.length / TAG_STRIDE;
    }

    void growTags(int tag) {
        int len = Math.max(tag + 1, tagCapacity() * 2);
        tagStats = java.util.Arrays.copyOf(tagStats, len * TAG_STRIDE);
    }

    long cachedBytes() {
        long b = 0;
        for (int c = 0; c < counts.length; c++) {
            b += counts[c] * SizeClasses.size(c);
        }
        return b;
    }
}
