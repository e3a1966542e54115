package io.jvmem.allocator;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Immutable allocator policy handed to a pool at creation: start from {@link #DEFAULT} and change with the
 * {@code with…} methods, each of which returns a copy. Safety checks (double and foreign free, metadata bounds) are
 * always on; the debugging aids here are off by default. Thread-safe (immutable).
 *
 * <ul>
 *   <li>{@code arenas}: number of arenas; threads are spread over them round-robin (default 4 × cores, at most 64)</li>
 *   <li>{@code threadCacheMax}: largest request size served from per-thread caches, 0 disables the caches (default 1 MiB)</li>
 *   <li>{@code decayMillis}: how long freed pages stay before they are punched out of the file and their space is
 *       returned to the file system; -1 never (default 10 s)</li>
 *   <li>{@code junkFill}: fill new blocks with 0xa5 and freed blocks with 0x5a (calloc still zeroes)</li>
 *   <li>{@code redzones}: surround each block with guard bytes checked on free ({@link HeapCorruptionException})</li>
 *   <li>{@code reserveInBackground}: volatile pools on tmpfs: reserve the first part of the file at creation and the
 *       rest on a background thread, so that creating a big pool returns at once; creation still fails at once when the
 *       file system has less room than the pool, and pages are reserved before they are handed out. The background
 *       starts half a second after creation, or when an allocation first goes beyond the first part, so that it does not
 *       compete with the program's start-up. Off by default.</li>
 *   <li>{@code maxSize}: a growable pool: the size given at creation is the initial size, and the pool grows in place
 *       up to this many bytes (address space for all of it is reserved at creation, so blocks never move). Empty by
 *       default: the pool keeps its size.</li>
 *   <li>{@code numaPolicy}: where the pool's pages are placed (mbind(2) on the mapping before any page is reserved).
 *       Empty by default: the kernel's default placement.</li>
 *   <li>{@code hugePages}: {@link HugePages#TRANSPARENT} asks for transparent huge pages (MADV_HUGEPAGE) on tmpfs and
 *       memfd pools. A pool in a hugetlbfs directory uses that file system's huge pages whatever this says.</li>
 *   <li>{@code noDump}: keep the pool's memory out of core dumps (madvise MADV_DONTDUMP on the whole mapping, the
 *       pool-wide form of malloc(9)'s M_NODUMP): a core of a JVM with a 100 GiB pool is otherwise 100 GiB. Off by
 *       default.</li>
 * </ul>
 */
public final class PoolOptions {
    /** Whether a pool asks for huge pages beyond what its file system gives. */
    public enum HugePages {
        /** The file system's default (4 KiB pages on tmpfs unless it is mounted with {@code huge=}). */
        NONE,
        /** madvise(MADV_HUGEPAGE) on the mapping: the kernel backs it with 2 MiB pages where it can. */
        TRANSPARENT
    }

    public static final PoolOptions DEFAULT = new PoolOptions(
            Math.min(64, 4 * Runtime.getRuntime().availableProcessors()), 1L << 20, 10_000, false, false, false, 0, null,
            HugePages.NONE, false);

    private final int arenas;
    private final long threadCacheMax;
    private final long decayMillis;
    private final boolean junkFill;
    private final boolean redzones;
    private final boolean reserveInBackground;
    private final long maxSize;
    private final NumaPolicy numaPolicy;
    private final HugePages hugePages;
    private final boolean noDump;

    private PoolOptions(int arenas, long threadCacheMax, long decayMillis, boolean junkFill, boolean redzones,
                        boolean reserveInBackground, long maxSize, NumaPolicy numaPolicy, HugePages hugePages,
                        boolean noDump) {
        if (arenas < 1 || arenas > 1024) {
            throw new IllegalArgumentException("arenas must be in [1, 1024]: " + arenas);
        }
        if (threadCacheMax < 0 || threadCacheMax > SizeClasses.MAX_RUN_CLASS) {
            throw new IllegalArgumentException("threadCacheMax must be in [0, " + SizeClasses.MAX_RUN_CLASS + "]: " + threadCacheMax);
        }
        if (decayMillis < -1) {
            throw new IllegalArgumentException("decayMillis must be -1 (never) or >= 0: " + decayMillis);
        }
        if (maxSize < 0) {
            throw new IllegalArgumentException("maxSize must be positive: " + maxSize);
        }
        this.arenas = arenas;
        this.threadCacheMax = threadCacheMax;
        this.decayMillis = decayMillis;
        this.junkFill = junkFill;
        this.redzones = redzones;
        this.reserveInBackground = reserveInBackground;
        this.maxSize = maxSize;
        this.numaPolicy = numaPolicy;
        this.hugePages = Objects.requireNonNull(hugePages, "hugePages");
        this.noDump = noDump;
    }

    public int arenas() {
        return arenas;
    }

    public long threadCacheMax() {
        return threadCacheMax;
    }

    public long decayMillis() {
        return decayMillis;
    }

    public boolean junkFill() {
        return junkFill;
    }

    public boolean redzones() {
        return redzones;
    }

    public boolean reserveInBackground() {
        return reserveInBackground;
    }

    /** The limit a growable pool grows to, in bytes; empty for a pool of fixed size. */
    public OptionalLong maxSize() {
        return maxSize == 0 ? OptionalLong.empty() : OptionalLong.of(maxSize);
    }

    public Optional<NumaPolicy> numaPolicy() {
        return Optional.ofNullable(numaPolicy);
    }

    public HugePages hugePages() {
        return hugePages;
    }

    public PoolOptions withArenas(int n) {
        return new PoolOptions(n, threadCacheMax, decayMillis, junkFill, redzones, reserveInBackground, maxSize, numaPolicy, hugePages, noDump);
    }

    public PoolOptions withThreadCacheMax(long bytes) {
        return new PoolOptions(arenas, bytes, decayMillis, junkFill, redzones, reserveInBackground, maxSize, numaPolicy, hugePages, noDump);
    }

    public PoolOptions withDecayMillis(long ms) {
        return new PoolOptions(arenas, threadCacheMax, ms, junkFill, redzones, reserveInBackground, maxSize, numaPolicy, hugePages, noDump);
    }

    public PoolOptions withJunkFill(boolean on) {
        return new PoolOptions(arenas, threadCacheMax, decayMillis, on, redzones, reserveInBackground, maxSize, numaPolicy, hugePages, noDump);
    }

    public PoolOptions withRedzones(boolean on) {
        return new PoolOptions(arenas, threadCacheMax, decayMillis, junkFill, on, reserveInBackground, maxSize, numaPolicy, hugePages, noDump);
    }

    public PoolOptions withReserveInBackground(boolean on) {
        return new PoolOptions(arenas, threadCacheMax, decayMillis, junkFill, redzones, on, maxSize, numaPolicy, hugePages, noDump);
    }

    /**
     * A growable pool of at most {@code bytes} (at least the size given at creation; a larger size given at creation
     * wins). Throws IllegalArgumentException for a negative or zero size.
     */
    public PoolOptions withMaxSize(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("maxSize must be positive: " + bytes);
        }
        return new PoolOptions(arenas, threadCacheMax, decayMillis, junkFill, redzones, reserveInBackground, bytes, numaPolicy, hugePages, noDump);
    }

    /** Pages placed by {@code policy}; null for the kernel's default placement. */
    public PoolOptions withNumaPolicy(NumaPolicy policy) {
        return new PoolOptions(arenas, threadCacheMax, decayMillis, junkFill, redzones, reserveInBackground, maxSize, policy, hugePages, noDump);
    }

    public PoolOptions withHugePages(HugePages mode) {
        return new PoolOptions(arenas, threadCacheMax, decayMillis, junkFill, redzones, reserveInBackground, maxSize, numaPolicy, mode, noDump);
    }

    public boolean noDump() {
        return noDump;
    }

    public PoolOptions withNoDump(boolean on) {
        return new PoolOptions(arenas, threadCacheMax, decayMillis, junkFill, redzones, reserveInBackground, maxSize, numaPolicy, hugePages, on);
    }

    @Override
    public String toString() {
        return "PoolOptions[arenas=" + arenas + ", threadCacheMax=" + threadCacheMax + ", decayMillis=" + decayMillis
                + ", junkFill=" + junkFill + ", redzones=" + redzones + ", reserveInBackground=" + reserveInBackground
                + ", maxSize=" + maxSize + ", numa=" + numaPolicy + ", hugePages=" + hugePages + ", noDump=" + noDump + "]";
    }
}
