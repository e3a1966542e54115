package io.jvmem.allocator;

/**
 * Immutable allocator policy handed to a pool at creation. Safety checks (double and foreign free, metadata bounds)
 * are always on; the debugging aids here are off by default.
 *
 * @param arenas          number of arenas; threads are spread over them round-robin (default 4 × cores, at most 64)
 * @param threadCacheMax  largest request size served from per-thread caches, 0 disables the caches (default 1 MiB)
 * @param decayMillis     how long freed pages stay before they are punched out of the file and their space is
 *                        returned to the file system; -1 never (default 10 s)
 * @param junkFill        fill new blocks with 0xa5 and freed blocks with 0x5a (calloc still zeroes)
 * @param redzones        surround each block with guard bytes checked on free ({@link HeapCorruptionException})
 * @param reserveInBackground volatile pools on tmpfs: reserve the first part of the file at creation and the rest on a
 *                        background thread, so that creating a big pool returns at once; creation still fails at once
 *                        when the file system has less room than the pool, and pages are reserved before they are
 *                        handed out (an allocation beyond the reserved part reserves it first; if the file system
 *                        filled up meanwhile, that allocation fails cleanly). Off by default: the whole file is
 *                        reserved before create returns.
 * @param noDump          keep the pool's memory out of core dumps (madvise MADV_DONTDUMP on the whole mapping, the
 *                        pool-wide form of malloc(9)'s M_NODUMP): a core of a JVM with a 100 GiB pool is otherwise
 *                        100 GiB. Off by default.
 */
public record PoolOptions(int arenas, long threadCacheMax, long decayMillis, boolean junkFill, boolean redzones,
                          boolean reserveInBackground, boolean noDump) {
    public static final PoolOptions DEFAULT = new PoolOptions(
            Math.min(64, 4 * Runtime.getRuntime().availableProcessors()), 1L << 20, 10_000, false, false, false, false);

    public PoolOptions {
        if (arenas < 1 || arenas > 1024) {
            throw new IllegalArgumentException("arenas must be in [1, 1024]: " + arenas);
        }
        if (threadCacheMax < 0 || threadCacheMax > SizeClasses.MAX_RUN_CLASS) {
            throw new IllegalArgumentException("threadCacheMax must be in [0, " + SizeClasses.MAX_RUN_CLASS + "]: " + threadCacheMax);
        }
        if (decayMillis < -1) {
            throw new IllegalArgumentException("decayMillis must be -1 (never) or >= 0: " + decayMillis);
        }
    }

    public PoolOptions withArenas(int n) {
        return new PoolOptions(n, threadCacheMax, decayMillis, junkFill, redzones, reserveInBackground, noDump);
    }

    public PoolOptions withThreadCacheMax(long bytes) {
        return new PoolOptions(arenas, bytes, decayMillis, junkFill, redzones, reserveInBackground, noDump);
    }

    public PoolOptions withDecayMillis(long ms) {
        return new PoolOptions(arenas, threadCacheMax, ms, junkFill, redzones, reserveInBackground, noDump);
    }

    public PoolOptions withJunkFill(boolean on) {
        return new PoolOptions(arenas, threadCacheMax, decayMillis, on, redzones, reserveInBackground, noDump);
    }

    public PoolOptions withRedzones(boolean on) {
        return new PoolOptions(arenas, threadCacheMax, decayMillis, junkFill, on, reserveInBackground, noDump);
    }

    public PoolOptions withReserveInBackground(boolean on) {
        return new PoolOptions(arenas, threadCacheMax, decayMillis, junkFill, redzones, on, noDump);
    }

    public PoolOptions withNoDump(boolean on) {
        return new PoolOptions(arenas, threadCacheMax, decayMillis, junkFill, redzones, reserveInBackground, on);
    }
}
