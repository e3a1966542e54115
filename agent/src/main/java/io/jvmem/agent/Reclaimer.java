package io.jvmem.agent;

import io.jvmem.allocator.MemoryPool;
import java.util.concurrent.atomic.LongAdder;

/**
 * Gets pool memory back from unreachable buffers when a pool is full, the way the JDK does for direct memory
 * ({@code java.nio.Bits.reserveMemory}): wait for the Reference Handler to run pending cleaners, then one garbage
 * collection, then retries with doubling sleeps. Unlike the JDK, a round in which blocks came back to the pool does
 * not count toward giving up (many threads share one pool; one that loses the race for freed blocks keeps waiting
 * while others make progress); a round in which nothing came back asks for one more collection before it counts
 * (garbage made after the last collection by threads that then stopped allocating is found by no one else: without
 * it, 40 threads dropping 1 MiB buffers into a 128 MiB pool ran out of memory in 1 run of 20 as they ended); and every
 * collection is shared ({@link SharedCollection}): threads that wait at the same time cause one collection, not one
 * each.
 *
 * <p>Requests of fallback routes never stall like that: they wait for pending cleaners and one shared collection, and
 * go to the JDK if that did not help; when a collection did not serve a request (a pool full of live data), the next
 * ones at least half as large are backed off (10 ms doubling up to 1 s) and go to the JDK at once; smaller ones still
 * try.
 *
 * <p>Interrupts are deferred as the JDK defers them: waiting goes on, and the thread's interrupt status is set again
 * before it returns. Thread-safe.
 */
final class Reclaimer {
    /** As {@code Bits.MAX_SLEEPS}: sleeps of 1, 2, ... 256 ms without progress, about half a second, before giving up. */
    static final int MAX_SLEEPS = 9;
    /** However much progress others make, one request gives up after this long (no hang on a starved request). */
    static final long GIVE_UP_NANOS = 10_000_000_000L;
    static final long MIN_BACKOFF_NANOS = 10_000_000L;
    /**
     * At most this long without a collection for a full pool's fallback requests: once live data has become garbage,
     * only a collection finds it, so a longer back-off kept requests in DRAM for as long (breaker14: 30 s).
     */
    static final long MAX_BACKOFF_NANOS = 1_000_000_000L;

    private final MemoryPool[] pools;
    private final ReferenceProcessing references;
    private final SharedCollection collections;
    /** Per pool: blocks returned through the agent (cleaners and Unsafe frees): "did anything come back?" */
    private final LongAdder[] released;
    /** Per pool: no collection for fallback requests before this time, and the next back-off. */
    private final long[] noCollectionBefore;
    /**
     * Per pool: the smallest request that a collection did not serve since the back-off began; only requests at least
     * half this large back off (breaker14: sizes shrinking by 4 KiB from 1 MiB cost a collection each, 35 s for 100).
     * Smaller ones that keep being served must not reset it: a pool full of live data with a thread churning small
     * blocks cost every large request a collection and a wait (breaker13: 300 ms each, for 20 s).
     */
    private final long[] failedSize;
    private final long[] backoff;
    /**
     * Per pool: blocks came back on the JDK's common cleaner thread (ofAuto arenas' segments), which runs after the
     * Reference Handler: a fallback request's collection then also waits for it ({@link #whileCleanerReleases}).
     */
    private final boolean[] byCleaner;
    /** Threads waiting for memory: written under {@link #waitingLock}, read without it (one load less per free). */
    private volatile int waiting;
    private final Object waitingLock = new Object();

    Reclaimer(MemoryPool[] pools, ReferenceProcessing references, SharedCollection collections) {
        this.pools = pools.clone();
        this.references = references;
        this.collections = collections;
        this.released = new LongAdder[pools.length];
        for (int i = 0; i < pools.length; i++) {
            released[i] = new LongAdder();
        }
        this.noCollectionBefore = new long[pools.length];
        this.failedSize = new long[pools.length];
        java.util.Arrays.fill(failedSize, Long.MAX_VALUE);
        this.byCleaner = new boolean[pools.length];
        this.backoff = new long[pools.length];
        java.util.Arrays.fill(backoff, MIN_BACKOFF_NANOS);
    }

    /**
     * A block of pool {@code pool} (its index) came back. Counted only while some thread waits: only waiters read the
     * count, and a block freed before a waiter arrived is one its first attempt finds (no contended counter on every
     * free).
     */
    void released(int pool) {
        if (waiting > 0) {
            released[pool].increment();
        }
    }

    /** {@link #released(int)} by pool (callers have seen {@link #underPressure()}: the search is off the common path). */
    void released(MemoryPool pool) {
        released(indexOf(pool));
    }

    /** A block of {@code pool} came back on the JDK's common cleaner thread (see {@link #byCleaner}). */
    void releasedByCleaner(MemoryPool pool) {
        int p = indexOf(pool);
        if (!byCleaner[p]) {
            synchronized (backoff) {
                byCleaner[p] = true;
            }
        }
    }

    /** Whether some thread waits for memory now (cleaners then hand blocks to the pool at once, not to a thread cache). */
    boolean underPressure() {
        return waiting > 0;
    }

    private void enterWaiting() {
        synchronized (waitingLock) {
            waiting++;
        }
    }

    private void leaveWaiting() {
        synchronized (waitingLock) {
            waiting--;
        }
    }

    /** The moment a request failed, for {@link #collectAndRetry}. */
    long ticket() {
        return collections.ticket();
    }

    /**
     * On-exhausted=fail: a zeroed block of {@code size} bytes for {@code s} after waiting as {@code Bits.reserveMemory}
     * does, or 0 when the pool stayed full (the caller throws OutOfMemoryError).
     *
     * @throws io.jvmem.allocator.PoolClosedException if the pool was closed meanwhile
     */
    long untilReleased(Site s, long size, long alignment) {
        int p = indexOf(s.pool);
        enterWaiting();
        boolean interrupted = false;
        try {
            long ticket = collections.ticket();
            boolean active;
            do {
                try {
                    active = references.await();
                } catch (InterruptedException e) {
                    interrupted = true;
                    active = true;
                }
                long a = attempt(s, size, alignment);
                if (a != 0) {
                    return a;
                }
            } while (active);
            try {
                collections.collectAfter(ticket);
            } catch (InterruptedException e) {
                interrupted = true;
            }
            long deadline = System.nanoTime() + GIVE_UP_NANOS;
            long sleep = 1;
            int sleeps = 0;
            while (true) {
                long a = attempt(s, size, alignment);
                if (a != 0) {
                    return a;
                }
                if (sleeps >= MAX_SLEEPS || System.nanoTime() - deadline > 0) {
                    return 0;
                }
                long before = released[p].sum();
                long roundTicket = collections.ticket();
                try {
                    if (references.await()) {
                        continue; // cleaners ran: not a round without progress
                    }
                    Thread.sleep(sleep);
                    if (released[p].sum() == before) {
                        // Nothing came back: this round counts. Garbage made since the last collection (by threads
                        // that then stopped allocating, so never asked for one) needs another: shared, as above.
                        collections.collectAfter(roundTicket);
                        sleeps++;
                        sleep <<= 1;
                    }
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            leaveWaiting();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * A fallback request's first wait: while cleaners are pending, waits for them and retries, for at most
     * {@link #PENDING_WAIT_NANOS}. Returns a block or 0; an interrupt ends the wait (and stays set).
     */
    long pending(Site s, long size, long alignment) {
        enterWaiting();
        try {
            long deadline = System.nanoTime() + PENDING_WAIT_NANOS;
            boolean active;
            do {
                try {
                    active = references.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return 0;
                }
                long a = attempt(s, size, alignment);
                if (a != 0) {
                    return a;
                }
            } while (active && System.nanoTime() - deadline < 0);
            return 0;
        } finally {
            leaveWaiting();
        }
    }

    /**
     * How long a fallback request waits while reference processing stays active: another thread that keeps dropping
     * buffers keeps it active, and the wait must end (breaker13: 1.5 s for one request).
     */
    static final long PENDING_WAIT_NANOS = 100_000_000L;

    /**
     * Whether a fallback request of {@code size} bytes on {@code pool} goes to the JDK without a collection now: a
     * collection made no room for one at most twice as large, and its back-off has not ended.
     */
    boolean backingOff(MemoryPool pool, long size) {
        int p = indexOf(pool);
        synchronized (backoff) {
            // half as large too: requests that shrink step by step would otherwise each cost a collection
            return size >= failedSize[p] / 2 && System.nanoTime() - noCollectionBefore[p] < 0;
        }
    }

    /**
     * A fallback request's second wait: one collection started after {@code ticket} (shared), its cleaners, a retry.
     * Returns a block or 0. If that did not serve it, requests at least half as large back off ({@link #failedSize}).
     */
    long collectAndRetry(Site s, long size, long alignment, long ticket) {
        int p = indexOf(s.pool);
        enterWaiting();
        try {
            try {
                collections.collectAfter(ticket);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 0;
            }
        } finally {
            leaveWaiting();
        }
        long a = pending(s, size, alignment);
        if (a == 0 && (s.arena || cleanerReleases(p))) {
            a = whileCleanerReleases(s, size, alignment, p);
        }
        // a wait that did not serve this request backs off requests as large, though blocks came back: releases that
        // trickle in but never make room would otherwise cost each of them a collection and a wait (a stall)
        synchronized (backoff) {
            long now = System.nanoTime();
            if (a != 0 && size >= failedSize[p]) { // as large as the last failure, served: the back-off starts over
                backoff[p] = MIN_BACKOFF_NANOS;
                noCollectionBefore[p] = now;
                failedSize[p] = Long.MAX_VALUE;
            } else if (a == 0) {
                noCollectionBefore[p] = now + backoff[p];
                backoff[p] = Math.min(MAX_BACKOFF_NANOS, backoff[p] * 2);
                failedSize[p] = Math.min(failedSize[p], size);
            } // a smaller request served says nothing of the larger ones: their back-off goes on doubling
        }
        return a;
    }

    private boolean cleanerReleases(int p) {
        synchronized (backoff) {
            return byCleaner[p];
        }
    }

    /** How long the common cleaner may release nothing before a fallback request stops waiting for it. */
    static final long CLEANER_QUIET_NANOS = 20_000_000L;
    /** However long it keeps releasing, a fallback request waits for it no longer than this. */
    static final long CLEANER_WAIT_NANOS = 60_000_000L;

    /**
     * After a collection: the blocks of unreachable {@code Arena.ofAuto()} segments come back on the JDK's common
     * cleaner thread, after the Reference Handler has handed their sessions over, so they may still be on their way
     * when {@link #pending} returns. Retries while blocks keep coming back: until a retry succeeds, none came back for
     * {@link #CLEANER_QUIET_NANOS}, {@link #CLEANER_WAIT_NANOS} passed, or the thread is interrupted. Without it, 64 KiB
     * ofAuto segments dropped in a loop fell back to DRAM as "full of live data" (breaker12: 1,567 of 20,000). Short:
     * one collection's cleanups take the cleaner milliseconds, and other threads' small blocks that keep coming back
     * would otherwise hold a large request for the whole wait (250 ms: FallbackStall's longest request 441 ms).
     */
    private long whileCleanerReleases(Site s, long size, long alignment, int p) {
        enterWaiting();
        try {
            long start = System.nanoTime();
            long lastRelease = start;
            long seen = released[p].sum();
            while (!Thread.currentThread().isInterrupted()) {
                long a = attempt(s, size, alignment);
                if (a != 0) {
                    return a;
                }
                long now = System.nanoTime();
                long r = released[p].sum();
                if (r != seen) {
                    seen = r;
                    lastRelease = now;
                }
                if (now - lastRelease > CLEANER_QUIET_NANOS || now - start > CLEANER_WAIT_NANOS) {
                    return 0;
                }
                java.util.concurrent.locks.LockSupport.parkNanos(200_000L);
            }
            return 0;
        } finally {
            leaveWaiting();
        }
    }

    /**
     * Arena segments are typed blocks (their cleanup frees them with the site's tag) and zeroed by the bridge; an
     * alignment above the pool's quantum takes an aligned block with its tag recorded, as the first attempt did.
     */
    private static long attempt(Site s, long size, long alignment) {
        if (alignment > HooksImpl.MALLOC_ALIGNMENT) {
            return s.pool.alignedAlloc(alignment, size, s.tag);
        }
        return s.arena ? s.typed.malloc(size) : s.pool.calloc(1, size, s.tag);
    }

    int indexOf(MemoryPool pool) {
        for (int i = 0; i < pools.length; i++) {
            if (pools[i] == pool) {
                return i;
            }
        }
        throw new IllegalArgumentException("not one of the agent's pools: " + pool.name());
    }
}
