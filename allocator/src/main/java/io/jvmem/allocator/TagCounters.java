package io.jvmem.allocator;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Per-pool, per-tag totals. Threads keep their own running delta per tag ({@link ThreadCache.TagSlot}) and publish
 * it here once it passes {@link #PUBLISH_BYTES} in either direction, so a tagged malloc/free pair costs a few plain
 * field updates; the high-water mark is therefore exact to within that slack per thread.
 */
final class TagCounters {
    static final long PUBLISH_BYTES = 1 << 20; // above the size of a cached block: an alloc/free pair of one never publishes
    private static final int CHUNK = 1024;
    private final AtomicLongArray[] inUse = new AtomicLongArray[AllocationTag.MAX_TAGS / CHUNK];
    private final AtomicLongArray[] peak = new AtomicLongArray[AllocationTag.MAX_TAGS / CHUNK];
    /** Requests of threads whose caches were retired. */
    private final AtomicLongArray[] retiredRequests = new AtomicLongArray[AllocationTag.MAX_TAGS / CHUNK];
    private final AtomicLongArray[] retiredBytes = new AtomicLongArray[AllocationTag.MAX_TAGS / CHUNK];
    /** All blocks, tagged or not: published in-use bytes and their high-water mark. */
    private final java.util.concurrent.atomic.AtomicLong totalInUse = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong totalPeak = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Held by an owned thread cache while it publishes a pending counter and zeroes it, and by statistics while they
     * read the pending and the published counters: a snapshot that saw the two stores apart would count the moved
     * bytes twice or not at all (a tag's in-use bytes above its peak, or below zero). Publications are rare (one per
     * MiB a thread moves, one per huge block), so the lock costs the fast paths nothing.
     */
    final Object moveLock = new Object();

    private synchronized void ensure(int chunk) {
        if (inUse[chunk] == null) {
            retiredRequests[chunk] = new AtomicLongArray(CHUNK);
            retiredBytes[chunk] = new AtomicLongArray(CHUNK);
            peak[chunk] = new AtomicLongArray(CHUNK);
            inUse[chunk] = new AtomicLongArray(CHUNK);
        }
    }

    /** Adds a thread's pending delta; {@code pendingMax} is the highest that delta reached since its last publish. */
    void publish(int tag, long delta, long pendingMax) {
        int c = tag / CHUNK;
        if (inUse[c] == null) {
            ensure(c);
        }
        int i = tag % CHUNK;
        long now = inUse[c].addAndGet(i, delta) - delta + Math.max(delta, pendingMax);
        AtomicLongArray p = peak[c];
        long old;
        while (now > (old = p.get(i)) && !p.compareAndSet(i, old, now)) {
            // retry: another thread raised the peak meanwhile
        }
    }

    void retireRequests(int tag, long n) {
        int c = tag / CHUNK;
        if (inUse[c] == null) {
            ensure(c);
        }
        retiredRequests[c].addAndGet(tag % CHUNK, n);
    }

    void retireBytes(int tag, long n) {
        int c = tag / CHUNK;
        if (inUse[c] == null) {
            ensure(c);
        }
        retiredBytes[c].addAndGet(tag % CHUNK, n);
    }

    long retiredBytes(int tag) {
        AtomicLongArray a = retiredBytes[tag / CHUNK];
        return a == null ? 0 : a.get(tag % CHUNK);
    }

    /** As {@link #publish} for the pool's total of all blocks. */
    void publishTotal(long delta, long pendingMax) {
        if (delta == 0 && pendingMax == 0) {
            return;
        }
        long now = totalInUse.addAndGet(delta) - delta + Math.max(delta, pendingMax);
        long old;
        while (now > (old = totalPeak.get()) && !totalPeak.compareAndSet(old, now)) {
            // retry: another thread raised the peak meanwhile
        }
    }

    long totalPublished() {
        return totalInUse.get();
    }

    long totalPeak() {
        return totalPeak.get();
    }

    long inUse(int tag) {
        AtomicLongArray a = inUse[tag / CHUNK];
        return a == null ? 0 : a.get(tag % CHUNK);
    }

    long peak(int tag) {
        AtomicLongArray a = peak[tag / CHUNK];
        return a == null ? 0 : a.get(tag % CHUNK);
    }

    long retiredRequests(int tag) {
        AtomicLongArray a = retiredRequests[tag / CHUNK];
        return a == null ? 0 : a.get(tag % CHUNK);
    }

    /** Highest tag id that ever had a counter here, plus one. */
    int extent() {
        for (int c = inUse.length - 1; c >= 0; c--) {
            if (inUse[c] != null) {
                return (c + 1) * CHUNK;
            }
        }
        return 0;
    }
}
