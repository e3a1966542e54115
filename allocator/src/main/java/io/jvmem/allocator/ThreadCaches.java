package io.jvmem.allocator;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The pool's thread caches (jemalloc's tcache.c): finding the calling thread's cache, the gate that close-to-open
 * close waits on, flushing caches back to the arenas and the page allocator, asking other threads to flush when the
 * pool runs out, and retiring the caches of threads that have ended. {@link ThreadCache} holds one cache's state.
 */
final class ThreadCaches {
    private static final int CACHE_SLOTS = 1024;
    private static final VarHandle BUSY;

    static {
        try {
            BUSY = MethodHandles.lookup().findVarHandle(ThreadCache.class, "busy", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Allocator heap;
    private final HeapArena[] arenas;
    private final int maxCachedClass;
    private final boolean gated;
    private final ThreadLocal<ThreadCache> caches;
    /**
     * Caches by thread id modulo the table size, written once by their owner: a hit costs a load and a compare
     * (against the owner, a final field), cheaper than ThreadLocal.get; a collision falls back to the ThreadLocal.
     */
    private final ThreadCache[] cacheSlots = new ThreadCache[CACHE_SLOTS];
    /** Threads without a cache of their own (virtual threads, caching off) share this one, under its lock. */
    private final ThreadCache shared;
    /** The counters of threads that ended (and of blocks found live at reopen); holds no blocks. */
    final ThreadCache retired;
    private final List<ThreadCache> registry = new ArrayList<>();
    private final AtomicInteger nextArena = new AtomicInteger();
    /** Taken by {@link #drainDeadThreads} and by statistics, so a snapshot never sees a dead thread's counters twice or not at all. */
    final Object drainLock = new Object();
    private volatile boolean closed;

    /**
     * @param gated count operations in flight per thread so that {@link #quiesce} can wait for them (close-to-open
     *              pools must not be written while they are flushed and marked consistent)
     */
    ThreadCaches(Allocator heap, HeapArena[] arenas, long threadCacheMax, boolean gated) {
        this.heap = heap;
        this.arenas = arenas;
        this.gated = gated;
        int maxCls = threadCacheMax == 0 ? -1 : SizeClasses.index(threadCacheMax);
        if (maxCls >= 0 && SizeClasses.size(maxCls) > threadCacheMax) {
            maxCls--;
        }
        this.maxCachedClass = maxCls;
        this.shared = new ThreadCache(null, this, arenas[0], -1);
        this.retired = new ThreadCache(null, this, arenas[0], -1);
        this.caches = new ThreadLocal<>() { // not withInitial(lambda): a lambda's bootstrap costs the agent's start-up
            @Override
            protected ThreadCache initialValue() {
                return newCache();
            }
        };
    }

    // ---------------------------------------------------------------- the gate

    /**
     * Starts an operation: the calling thread's cache, counted in flight when the pool is gated. An operation that
     * finds the pool closed leaves at once with {@link PoolClosedException}.
     */
    ThreadCache enter() {
        return enter(cacheSlots);
    }

    /**
     * {@link #enter()} with this pool's cache slots ({@link #slots()}) from a caller that holds them, one dependent
     * load less on the hot path ({@link TypedAllocator}).
     */
    ThreadCache enter(ThreadCache[] slots) {
        return gate(cache(slots));
    }

    /**
     * {@link #enter(ThreadCache[])} with a hint from the caller: the cache {@link #cache()} gave it earlier on this
     * thread. A hint that is the calling thread's cache of this pool is taken without the lookup (three dependent
     * loads less); any other hint, null included, is ignored.
     */
    ThreadCache enter(Object hint, ThreadCache[] slots) {
        return gate(hint instanceof ThreadCache h && h.owner == Thread.currentThread() && h.home == this ? h : cache(slots));
    }

    private ThreadCache gate(ThreadCache tc) {
        if (gated) {
            if (tc.owner != null) {
                BUSY.setVolatile(tc, tc.busy + 1); // StoreLoad: the closer sees us, or we see it
            } else {
                BUSY.getAndAdd(tc, 1);
            }
        }
        if (closed) {
            exit(tc);
            throw new PoolClosedException("pool " + heap.name + " was " + (gated ? "closed" : "deleted"));
        }
        return tc;
    }

    void exit(ThreadCache tc) {
        if (gated) {
            if (tc.owner != null) {
                BUSY.setRelease(tc, tc.busy - 1);
            } else {
                BUSY.getAndAdd(tc, -1);
            }
        }
    }

    /**
     * Stops new operations and waits until none is in flight (close-to-open close). Returns false if some thread
     * stayed inside an operation for {@code timeoutMillis}.
     */
    boolean quiesce(long timeoutMillis) {
        closed = true;
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        for (ThreadCache tc : snapshot()) {
            while ((int) BUSY.getVolatile(tc) != 0) {
                if (System.nanoTime() > deadline) {
                    return false;
                }
                Thread.onSpinWait();
            }
        }
        return true;
    }

    void close() {
        closed = true;
    }

    boolean isClosed() {
        return closed;
    }

    // ---------------------------------------------------------------- finding a thread's cache

    /** The caches by thread id (see {@link #enter(ThreadCache[])}). */
    ThreadCache[] slots() {
        return cacheSlots;
    }

    ThreadCache cache() {
        return cache(cacheSlots);
    }

    ThreadCache cache(ThreadCache[] slots) {
        Thread t = Thread.currentThread();
        ThreadCache tc = slots[(int) t.threadId() & (CACHE_SLOTS - 1)];
        if (tc != null && tc.owner == t) {
            return tc;
        }
        return caches.get();
    }

    private ThreadCache newCache() {
        Thread t = Thread.currentThread();
        if (maxCachedClass < 0 || t.isVirtual()) {
            return shared;
        }
        ThreadCache tc = new ThreadCache(t, this, arenas[Math.floorMod(nextArena.getAndIncrement(), arenas.length)], maxCachedClass,
                Math.min(4L << 20, heap.heapBytes() / 64));
        synchronized (registry) {
            registry.add(tc);
        }
        int slot = (int) t.threadId() & (CACHE_SLOTS - 1);
        ThreadCache there = cacheSlots[slot];
        if (there == null || !there.owner.isAlive()) {
            cacheSlots[slot] = tc;
        }
        return tc;
    }

    /** The arena a slow path of {@code tc} fills from: its own, or by thread id for the shared cache. */
    HeapArena arenaFor(ThreadCache tc) {
        if (tc.owner != null) {
            return tc.arena;
        }
        return arenas[(int) (Thread.currentThread().threadId() % arenas.length)];
    }

    /** Every live thread's cache, the shared one and the retired counters. */
    List<ThreadCache> snapshot() {
        List<ThreadCache> all;
        synchronized (registry) {
            all = new ArrayList<>(registry);
        }
        all.add(shared);
        all.add(retired);
        return all;
    }

    // ---------------------------------------------------------------- flushing

    /** A full stack: the older half goes back. */
    void flushHalf(ThreadCache tc, int cls) {
        int n = tc.height(cls);
        int k = Math.max(1, n / 2);
        releaseAll(cls, tc.bins[cls], 0, k);
        System.arraycopy(tc.bins[cls], k, tc.bins[cls], 0, n - k);
        tc.setHeight(cls, n - k);
        tc.removed(cls, k);
    }

    void flushAll(ThreadCache tc) {
        for (int cls = 0; cls < tc.stack.length; cls++) {
            int n = tc.height(cls);
            if (n > 0) {
                tc.setHeight(cls, 0);
                tc.removed(cls, n);
                releaseAll(cls, tc.bins[cls], 0, n);
            }
        }
    }

    private void releaseAll(int cls, long[] offs, int from, int to) {
        if (SizeClasses.isSmall(cls)) {
            int i = from;
            while (i < to) {
                HeapArena a = heap.slabs.slabAt(offs[i]).arena;
                int j = i + 1;
                while (j < to && heap.slabs.slabAt(offs[j]).arena == a) {
                    j++;
                }
                a.release(offs, i, j);
                i = j;
            }
        } else {
            for (int i = from; i < to; i++) {
                heap.releaseRun(offs[i], SizeClasses.size(cls) >>> SizeClasses.LG_PAGE);
            }
        }
    }

    /** Flushes the calling thread's cache (tests, close). */
    void flushCurrentThread() {
        ThreadCache tc = cache();
        if (tc.owner != null) {
            flushAll(tc);
        }
    }

    /** Out of memory: give back what this thread caches, empty slabs, and ask other threads to do the same. */
    void recover(ThreadCache tc) {
        flushAll(tc);
        drainDeadThreads();
        synchronized (registry) {
            for (ThreadCache other : registry) {
                if (other != tc) {
                    other.flushRequested = true;
                }
            }
        }
        // last: the flushes above may have emptied slabs
        for (HeapArena a : arenas) {
            a.trim();
        }
    }

    /** Retires the caches of threads that have ended: their blocks go back, their counters into {@link #retired}. */
    void drainDeadThreads() {
        synchronized (drainLock) {
            List<ThreadCache> dead = new ArrayList<>();
            synchronized (registry) {
                registry.removeIf(tc -> {
                    if (!tc.owner.isAlive()) {
                        dead.add(tc);
                        return true;
                    }
                    return false;
                });
            }
            for (ThreadCache tc : dead) {
                flushAll(tc);
                heap.accounting.retire(tc, retired);
            }
        }
    }
}
