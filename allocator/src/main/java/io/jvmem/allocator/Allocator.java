package io.jvmem.allocator;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The malloc family over one pool's heap: size classes → thread cache → arena slabs / page allocator. Shared by
 * volatile and close-to-open pools; it keeps all persistent state in the pool (page map, live map) and rebuilds its
 * in-heap indexes (slabs, free runs) from them.
 *
 * <p>Fast path of a malloc/free pair of a cached class: one class lookup, one thread-slot lookup, a stack pop and
 * push, a few plain counter updates, and the safety checks, with no atomic instruction:
 * <ul>
 *   <li>the block's bit in the {@link LiveMap} must be set (else: never allocated, an interior pointer, an address in
 *       a slab's free space, or a block already returned to its slab);</li>
 *   <li>its first 8 bytes must not hold the pool's free key ({@code secret ^ address}), which free writes there when the
 *       block goes into a thread cache and malloc erases when it comes out (else: a double free of a cached block),
 *       as glibc's tcache does. A live block's data equals the key with probability 2^-64.</li>
 * </ul>
 * Two threads freeing the same block at the same instant can both pass; every other double free is caught.
 */
final class Allocator {
    static final int RZ = 16;
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    private static final int RZ_MAGIC = 0xa5a5a5a5;
    private static final int RZ_FREED = 0x5a5a5a5a;
    static final byte JUNK_ALLOC = (byte) 0xa5;
    static final byte JUNK_FREE = (byte) 0x5a;
    private static final int HUGE_SLOT = SizeClasses.NCLASSES;

    final String name;
    final MemorySegment pool;
    final long base;
    final long poolSize;
    final long heapAddr;
    final long heapBytes;
    final PoolLayout layout;
    final PageMap pageMap;
    final LiveMap live;
    final PageAllocator pages;
    final Arena[] arenas;
    final PoolOptions options;
    final TagCounters tags = new TagCounters();
    private final boolean debug;
    private final int maxCachedClass;
    private final ThreadLocal<ThreadCache> caches;
    /**
     * Caches by thread id modulo the table size, written once by their owner: a hit costs a load and a compare
     * (against the owner, a final field), cheaper than ThreadLocal.get; a collision falls back to the ThreadLocal.
     */
    private final ThreadCache[] cacheSlots = new ThreadCache[CACHE_SLOTS];
    private static final int CACHE_SLOTS = 1024;
    /** Set once any small block carries a tag; until then frees skip the slab lookup for the tag. */
    private volatile boolean smallTags;
    private final ThreadCache shared;
    final ThreadCache retired;
    final List<ThreadCache> registry = new ArrayList<>();
    private final AtomicInteger nextArena = new AtomicInteger();
    private final Object slabLock = new Object();
    private volatile Slab[] slabs = new Slab[64];
    private int[] freeSlabIds = new int[16];
    private int freeSlabIdCount;
    private int slabIdEnd;
    private volatile boolean closed;
    private final boolean gated;
    private static final java.lang.invoke.VarHandle BUSY;

    static {
        try {
            BUSY = java.lang.invoke.MethodHandles.lookup().findVarHandle(ThreadCache.class, "busy", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    private final Maintenance maintenance;
    private final Reallocator reallocator = new Reallocator(this);
    /** Per-pool random secret for the free key written into cached blocks. */
    private final long freeSecret = java.util.concurrent.ThreadLocalRandom.current().nextLong() | 1; // not a security boundary: only makes a stale word unlikely to look like a key

    Allocator(String name, MemorySegment pool, PoolLayout layout, Backing backing, PoolOptions options, boolean fresh,
              boolean heapZero) {
        this(name, pool, layout, backing, options, fresh, heapZero, false);
    }

    /**
     * @param gated count operations in flight per thread so that {@link #quiesce} can wait for them (close-to-open
     *              pools must not be written while they are flushed and marked consistent)
     */
    Allocator(String name, MemorySegment pool, PoolLayout layout, Backing backing, PoolOptions options, boolean fresh,
              boolean heapZero, boolean gated) {
        this.gated = gated;
        this.name = name;
        this.pool = pool;
        this.base = pool.address();
        this.poolSize = pool.byteSize();
        this.layout = layout;
        this.heapAddr = base + layout.heapOffset;
        this.heapBytes = layout.heapBytes();
        this.options = options;
        this.debug = options.junkFill() || options.redzones();
        this.pageMap = new PageMap(pool, layout);
        this.live = new LiveMap(pool, layout);
        this.pages = new PageAllocator(pageMap, backing, layout.heapOffset);
        this.pages.setHeapAddress(heapAddr);
        this.arenas = new Arena[options.arenas()];
        for (int i = 0; i < arenas.length; i++) {
            arenas[i] = new Arena(i, this);
        }
        int maxCls = options.threadCacheMax() == 0 ? -1 : SizeClasses.index(options.threadCacheMax());
        if (maxCls >= 0 && SizeClasses.size(maxCls) > options.threadCacheMax()) {
            maxCls--;
        }
        this.maxCachedClass = maxCls;
        this.shared = new ThreadCache(null, arenas[0], -1);
        this.retired = new ThreadCache(null, arenas[0], -1);
        this.caches = new ThreadLocal<>() { // not withInitial(lambda): a lambda's bootstrap costs the agent's start-up
            @Override
            protected ThreadCache initialValue() {
                return newCache();
            }
        };
        if (fresh) {
            if (!heapZero) {
                live.clearAll();
            }
            pages.format(heapZero);
        } else if (!rebuild()) {
            throw new PoolException(PoolErrorReason.CORRUPT, "pool metadata is inconsistent (page map does not describe the heap)");
        }
        this.maintenance = new Maintenance(this, options.decayMillis());
    }

    // ---------------------------------------------------------------- caches

    /**
     * Starts an operation: the calling thread's cache, counted in flight when the pool is gated. An operation that
     * finds the pool closed leaves at once with {@link PoolClosedException}.
     */
    private ThreadCache enter() {
        ThreadCache tc = cache();
        if (gated) {
            if (tc.owner != null) {
                BUSY.setVolatile(tc, tc.busy + 1); // StoreLoad: the closer sees us, or we see it
            } else {
                BUSY.getAndAdd(tc, 1);
            }
        }
        if (closed) {
            exit(tc);
            throw closedError();
        }
        return tc;
    }

    private PoolClosedException closedError() {
        return new PoolClosedException("pool " + name + " was " + (gated ? "closed" : "deleted"));
    }

    private void exit(ThreadCache tc) {
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
        for (ThreadCache tc : cachesSnapshot()) {
            while ((int) BUSY.getVolatile(tc) != 0) {
                if (System.nanoTime() > deadline) {
                    return false;
                }
                Thread.onSpinWait();
            }
        }
        return true;
    }

    private ThreadCache cache() {
        Thread t = Thread.currentThread();
        ThreadCache tc = cacheSlots[(int) t.threadId() & (CACHE_SLOTS - 1)];
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
        ThreadCache tc = new ThreadCache(t, arenas[Math.floorMod(nextArena.getAndIncrement(), arenas.length)], maxCachedClass,
                Math.min(4L << 20, heapBytes / 64));
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

    // ---------------------------------------------------------------- malloc family

    long malloc(long size, int tag) {
        ThreadCache tc = enter();
        try {
            return malloc(tc, size, tag);
        } finally {
            exit(tc);
        }
    }

    long malloc(ThreadCache tc, long size, int tag) {
        if (size < 0 || debug) {
            return allocate(tc, size, 1, tag, false);
        }
        int cls = SizeClasses.index(size);
        long off;
        if (cls < 0 || (off = tc.pop(cls)) < 0) {
            off = take(tc, cls, size, SizeClasses.PAGE);
            if (off < 0) {
                return 0;
            }
        }
        onAlloc(tc, off, cls, tag);
        return heapAddr + off;
    }

    long calloc(long count, long size, int tag) {
        ThreadCache tc = enter();
        try {
            return calloc(tc, count, size, tag);
        } finally {
            exit(tc);
        }
    }

    private long calloc(ThreadCache tc, long count, long size, int tag) {
        if (count < 0 || size < 0) {
            return fail(PoolErrorReason.NEGATIVE_SIZE, "calloc: negative count or size");
        }
        long total;
        try {
            total = Math.multiplyExact(count, size);
        } catch (ArithmeticException e) {
            return fail(PoolErrorReason.OVERFLOW, "calloc: " + count + " × " + size + " overflows");
        }
        if (!debug) { // fast path: a cached block, zeroed over the requested bytes only
            int cls = SizeClasses.index(total);
            long off;
            if (cls >= 0 && (off = tc.pop(cls)) >= 0) {
                onAlloc(tc, off, cls, tag);
                long addr = heapAddr + off;
                if (total > 0) {
                    ALL.asSlice(addr, total).fill((byte) 0);
                }
                return addr;
            }
        }
        return allocate(tc, total, 1, tag, true);
    }

    long alignedAlloc(long alignment, long size, int tag) {
        ThreadCache tc = enter();
        try {
            if (alignment <= 0 || Long.bitCount(alignment) != 1) {
                return fail(PoolErrorReason.BAD_ALIGNMENT, "alignment " + alignment + " is not a power of two");
            }
            return allocate(tc, size, alignment, tag, false);
        } finally {
            exit(tc);
        }
    }

    /** General allocation: any size, alignment, zeroing, and the debugging aids. */
    long allocate(ThreadCache tc, long size, long align, int tag, boolean zero) {
        if (size < 0) {
            return fail(PoolErrorReason.NEGATIVE_SIZE, "negative size " + size);
        }
        boolean rz = options.redzones();
        long lead = rz ? Math.max(RZ, align) : 0;
        long req = rz ? size + lead + RZ : size;
        if (req < 0 || req > heapBytes) {
            return fail(PoolErrorReason.TOO_LARGE, "request of " + size + " bytes exceeds the pool's heap of " + heapBytes + " bytes");
        }
        long blockAlign = rz ? Math.max(align, SizeClasses.QUANTUM) : align;
        int cls = classFor(req, blockAlign);
        long off = -1;
        boolean knownZero = false;
        if (cls >= 0 && blockAlign <= SizeClasses.PAGE) {
            off = tc.pop(cls);
        }
        if (off < 0) {
            tc.lastZero = false;
            off = take(tc, cls, req, Math.max(blockAlign, SizeClasses.PAGE));
            if (off < 0) {
                return 0;
            }
            knownZero = tc.lastZero && tc.owner != null;
        }
        onAlloc(tc, off, cls, tag);
        long addr = heapAddr + off;
        long usable = blockUsable(off);
        if (zero) {
            if (!knownZero) {
                ALL.asSlice(addr, rz ? req : Math.min(usable, Math.max(size, 1))).fill((byte) 0);
            }
        } else if (options.junkFill()) {
            ALL.asSlice(addr, usable).fill(JUNK_ALLOC);
        }
        if (rz) {
            long user = addr + lead;
            if (lead > RZ) {
                ALL.asSlice(addr, lead - RZ).fill(JUNK_ALLOC);
            }
            ALL.set(ValueLayout.JAVA_INT_UNALIGNED, user - 16, (int) lead);
            ALL.set(ValueLayout.JAVA_INT_UNALIGNED, user - 12, RZ_MAGIC);
            ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, user - 8, size);
            ALL.asSlice(user + size, usable - lead - size).fill(JUNK_ALLOC);
            return user;
        }
        return addr;
    }

    /** Size class serving {@code req} bytes at {@code align}; -1 for a page-rounded huge run. */
    private static int classFor(long req, long align) {
        if (align > SizeClasses.PAGE) {
            // only page runs can be placed at an alignment above a page
            return SizeClasses.index(Math.max(req, SizeClasses.SMALL_MAX + 1));
        }
        int cls = SizeClasses.index(Math.max(req, align));
        if (cls < 0 || align <= SizeClasses.QUANTUM) {
            return cls;
        }
        // Small regions sit at multiples of the class size from a page boundary: pick a class that is a multiple
        // of the alignment (the power-of-two classes always are).
        while (cls < SizeClasses.NCLASSES && SizeClasses.isSmall(cls) && SizeClasses.size(cls) % align != 0) {
            cls++;
        }
        return cls < SizeClasses.NCLASSES ? cls : -1;
    }

    long realloc(long address, long size, int tag) {
        ThreadCache tc = enter();
        try {
            return reallocator.realloc(tc, address, size, tag);
        } finally {
            exit(tc);
        }
    }

    long usableSize(long address) {
        ThreadCache tc = enter();
        try {
            return usableSizeOf(address);
        } finally {
            exit(tc);
        }
    }

    private long usableSizeOf(long address) {
        if (options.redzones()) {
            long off = blockOffset(redzonedBlock(address, "usableSize"), "usableSize");
            if (!isHandedOut(off)) {
                throw invalid(address, "usableSize", "no live block starts at this address");
            }
            return ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, address - 8);
        }
        long off = blockOffset(address, "usableSize");
        if (!isHandedOut(off)) {
            throw invalid(address, "usableSize", "no live block starts at this address");
        }
        return blockUsable(off);
    }

    /** Block address behind a redzoned user address, read from the 16-byte header before it. */
    long redzonedBlock(long address, String op) {
        blockOffset(address - RZ, op);
        int lead = ALL.get(ValueLayout.JAVA_INT_UNALIGNED, address - 16);
        int magic = ALL.get(ValueLayout.JAVA_INT_UNALIGNED, address - 12);
        if (magic == RZ_FREED) {
            throw invalid(address, op, "double free (the block is already free in a thread cache)");
        }
        if (lead < RZ || (lead & (SizeClasses.QUANTUM - 1)) != 0 || address - lead < heapAddr || magic != RZ_MAGIC) {
            if (!isLiveBlock(address)) {
                throw invalid(address, op, "no live block starts at this address (or its leading redzone was overwritten)");
            }
            throw new HeapCorruptionException("leading redzone of the block at 0x" + Long.toHexString(address) + " overwritten");
        }
        return address - lead;
    }

    boolean isLiveBlock(long address) {
        long off = address - heapAddr;
        return off >= 0 && off < heapBytes && (off & (SizeClasses.QUANTUM - 1)) == 0 && isHandedOut(off);
    }

    /** In the user's hands: handed out by its slab or the page allocator, and not resting in a thread cache. */
    boolean isHandedOut(long off) {
        return live.isSet(off) && ALL.get(ValueLayout.JAVA_LONG, heapAddr + off) != (freeSecret ^ (heapAddr + off));
    }

    void eraseFreeKey(long off) {
        ALL.set(ValueLayout.JAVA_LONG, heapAddr + off, 0L);
    }

    /** Whether the block at heap offset off carries the free key (it rests in a thread cache). */
    boolean hasFreeKey(long off) {
        return ALL.get(ValueLayout.JAVA_LONG, heapAddr + off) == (freeSecret ^ (heapAddr + off));
    }

    /** Usable bytes of the block at heap offset off (which must be live or cached). */
    long blockUsable(long off) {
        long e = pageMap.get(off >>> SizeClasses.LG_PAGE);
        int cls = PageMap.cls(e);
        if (PageMap.kind(e) == PageMap.SLAB || cls != PageMap.HUGE_CLASS) {
            return SizeClasses.size(cls);
        }
        return PageMap.pages(e) << SizeClasses.LG_PAGE;
    }

    void free(long address) {
        if (address == 0) {
            return;
        }
        ThreadCache tc = enter();
        try {
            if (debug || !freeToCache(tc, address)) {
                free(tc, address);
            }
        } finally {
            exit(tc);
        }
    }

    /**
     * The common free, small enough to inline: a live block of a cached class goes onto the thread's stack. Returns
     * false, having changed nothing, for everything else (errors included), which the general path handles.
     */
    private boolean freeToCache(ThreadCache tc, long address) {
        long off = address - heapAddr;
        if (off < 0 || off >= heapBytes || (off & (SizeClasses.QUANTUM - 1)) != 0 || !live.isSet(off)
                || ALL.get(ValueLayout.JAVA_LONG, address) == (freeSecret ^ address)) {
            return false;
        }
        long e = pageMap.get(off >>> SizeClasses.LG_PAGE);
        int cls = PageMap.cls(e);
        int tag;
        if (PageMap.kind(e) == PageMap.SLAB) {
            tag = smallTags ? takeSmallTag(e, off) : 0;
        } else if (PageMap.kind(e) == PageMap.LARGE && PageMap.isHead(e) && cls != PageMap.HUGE_CLASS) {
            if (!tc.roomFor(cls)) {
                return false;
            }
            tag = PageMap.tag(e);
        } else {
            return false;
        }
        int n;
        if (!tc.caches(cls) || (n = tc.counts[cls]) == tc.caps[cls]) {
            if (tag != 0 && PageMap.kind(e) == PageMap.SLAB) {
                slabs[PageMap.slabId(e)].setTag(off, tag); // put it back for the general path
            }
            return false;
        }
        onFree(tc, off, cls, tag, e);
        if (tag != 0 && PageMap.kind(e) == PageMap.LARGE) {
            untagRun(off, e);
        }
        ALL.set(ValueLayout.JAVA_LONG, address, freeSecret ^ address);
        tc.bins[cls][n] = off; // ThreadCache.push, its checks done above
        tc.counts[cls] = n + 1;
        if (cls >= SizeClasses.NSMALL) {
            tc.largeBytes += SizeClasses.size(cls);
        }
        return true;
    }

    /** The tag of a small block being freed, cleared in its slab. */
    private int takeSmallTag(long e, long off) {
        Slab s = slabs[PageMap.slabId(e)];
        int tag = s.tag(off);
        if (tag != 0) {
            s.setTag(off, 0);
        }
        return tag;
    }

    void free(ThreadCache tc, long address) {
        if (address == 0) {
            return;
        }
        String damage = null;
        long block = address;
        long requested = -1;
        if (options.redzones()) {
            block = redzonedBlock(address, "free");
            requested = ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, address - 8);
        }
        long off = blockOffset(block, "free");
        if (!live.isSet(off)) {
            throw invalid(address, "free", "double free, or no block was allocated at this address");
        }
        if (ALL.get(ValueLayout.JAVA_LONG, block) == (freeSecret ^ block)) {
            throw invalid(address, "free", "double free (the block is already free in a thread cache)");
        }
        long e = pageMap.get(off >>> SizeClasses.LG_PAGE);
        int kind = PageMap.kind(e);
        int cls;
        int tag;
        if (kind == PageMap.SLAB) {
            cls = PageMap.cls(e);
            tag = 0;
            if (smallTags) {
                Slab s = slabs[PageMap.slabId(e)];
                tag = s.tag(off);
                if (tag != 0) {
                    s.setTag(off, 0);
                }
            }
        } else if (kind == PageMap.LARGE && PageMap.isHead(e)) {
            cls = PageMap.cls(e) == PageMap.HUGE_CLASS ? -1 : PageMap.cls(e);
            tag = PageMap.tag(e);
        } else {
            throw new HeapCorruptionException("page map entry of live block 0x" + Long.toHexString(address)
                    + " is not in use (pool metadata damaged)");
        }
        if (debug) {
            long usable = blockUsable(off);
            if (requested >= 0) {
                damage = checkRedzones(block, address, requested, usable);
            }
            if (options.junkFill()) {
                ALL.asSlice(block, usable).fill(JUNK_FREE);
            }
        }
        onFree(tc, off, cls, tag, e);
        if (cls < 0 || !tc.caches(cls) || !tc.roomFor(cls)) {
            release(off, cls, e);
        } else {
            if (tag != 0 && kind == PageMap.LARGE) {
                untagRun(off, e);
            }
            ALL.set(ValueLayout.JAVA_LONG, block, freeSecret ^ block);
            if (options.redzones()) {
                ALL.set(ValueLayout.JAVA_INT_UNALIGNED, address - 12, RZ_FREED);
            }
            if (!tc.push(cls, off)) {
                flushHalf(tc, cls);
                tc.push(cls, off);
            }
        }
        if (damage != null) {
            throw new HeapCorruptionException(damage);
        }
    }

    static String checkRedzones(long block, long user, long requested, long usable) {
        for (long a = block; a < user - 16; a++) {
            if (ALL.get(ValueLayout.JAVA_BYTE, a) != JUNK_ALLOC) {
                return "leading redzone of the block at 0x" + Long.toHexString(user) + " overwritten";
            }
        }
        for (long a = user + requested; a < block + usable; a++) {
            if (ALL.get(ValueLayout.JAVA_BYTE, a) != JUNK_ALLOC) {
                return "trailing redzone of the block at 0x" + Long.toHexString(user) + " overwritten at +" + (a - user);
            }
        }
        return null;
    }

    /** Heap offset of a would-be block address, or an InvalidFreeException saying why it cannot be one. */
    long blockOffset(long address, String op) {
        long off = address - heapAddr;
        if (off < 0 || off >= heapBytes) {
            throw invalid(address, op, address - base >= 0 && address - base < poolSize
                    ? "address lies in the pool's metadata, not in a block" : "address is outside the pool");
        }
        if ((off & (SizeClasses.QUANTUM - 1)) != 0) {
            throw invalid(address, op, "address is not the start of a block");
        }
        return off;
    }

    InvalidFreeException invalid(long address, String op, String why) {
        PoolEvents.invalidFree(name, op, address, why);
        return new InvalidFreeException(op + "(0x" + Long.toHexString(address) + ") in pool " + name + ": " + why, address);
    }

    // ---------------------------------------------------------------- accounting

    private void onAlloc(ThreadCache tc, long off, int cls, int tag) {
        ALL.set(ValueLayout.JAVA_LONG, heapAddr + off, 0L); // erase the free key
        long usable;
        if (cls >= 0 && SizeClasses.isSmall(cls)) {
            usable = SizeClasses.size(cls);
            if (tag != 0) {
                tagSmall(off, tag);
            }
        } else if (tag != 0 || cls < 0) {
            usable = tagRun(off, cls, tag);
        } else {
            usable = SizeClasses.size(cls); // a cached or fresh run's entry carries tag 0 already
        }
        count(tc, cls, usable, tag, 1);
    }

    private void tagSmall(long off, int tag) {
        if (!smallTags) {
            smallTags = true;
        }
        slabAt(off).setTag(off, tag);
    }

    /** A tagged page run going into a thread cache: its entry goes back to tag 0, so an untagged malloc need not look. */
    private void untagRun(long off, long e) {
        pageMap.set(off >>> SizeClasses.LG_PAGE, PageMap.withTag(e, 0));
    }

    /** Records the tag of a page run being handed out; returns its usable bytes. */
    private long tagRun(long off, int cls, int tag) {
        long page = off >>> SizeClasses.LG_PAGE;
        long e = pageMap.get(page);
        if (PageMap.tag(e) != tag) {
            pageMap.set(page, PageMap.withTag(e, tag));
        }
        return cls >= 0 ? SizeClasses.size(cls) : PageMap.pages(e) << SizeClasses.LG_PAGE;
    }

    private void onFree(ThreadCache tc, long off, int cls, int tag, long e) {
        long usable = cls >= 0 ? SizeClasses.size(cls) : PageMap.pages(e) << SizeClasses.LG_PAGE;
        count(tc, cls, usable, tag, -1);
    }

    /**
     * Per-thread counters of one block handed out ({@code sign} 1) or taken back (-1). Kept small so that it inlines
     * into the fast paths; the shared cache of unowned threads, huge blocks, tags and publication are out of line.
     */
    void count(ThreadCache tc, int cls, long usable, int tag, int sign) {
        if (tc.owner == null || cls < 0) {
            countRare(tc, cls, usable, tag, sign);
            return;
        }
        long delta = sign * usable;
        if (sign > 0) {
            tc.nmalloc[cls]++;
            tc.allBytes += usable;
        } else {
            tc.nfree[cls]++;
        }
        long q = tc.allPending + delta;
        if (q > tc.allPendingMax) {
            if (q > TagCounters.PUBLISH_BYTES) {
                publishTotal(tc, q);
                q = 0;
            } else {
                tc.allPendingMax = q;
            }
        } else if (q < -TagCounters.PUBLISH_BYTES) {
            publishTotal(tc, q);
            q = 0;
        }
        tc.allPending = q;
        if (tag != 0) {
            countTag(tc, tag, usable, sign);
        }
    }

    private void publishTotal(ThreadCache tc, long q) {
        tags.publishTotal(q, tc.allPendingMax);
        tc.allPendingMax = 0;
    }

    /** Unowned (shared) caches under their lock, and huge blocks, which have no class slot. */
    private void countRare(ThreadCache tc, int cls, long usable, int tag, int sign) {
        if (tc.owner == null) {
            synchronized (tc) {
                countAny(tc, cls, usable, tag, sign);
            }
        } else {
            countAny(tc, cls, usable, tag, sign);
        }
    }

    private void countAny(ThreadCache tc, int cls, long usable, int tag, int sign) {
        int slot = cls < 0 ? HUGE_SLOT : cls;
        if (sign > 0) {
            tc.nmalloc[slot]++;
            tc.allBytes += usable;
        } else {
            tc.nfree[slot]++;
        }
        if (slot == HUGE_SLOT) {
            tc.hugeBytes += sign * usable; // class sizes give the rest of the allocated bytes
        }
        long q = tc.allPending + sign * usable;
        if (q > TagCounters.PUBLISH_BYTES || q < -TagCounters.PUBLISH_BYTES || tc.owner == null) {
            tags.publishTotal(q, tc.allPendingMax);
            q = 0;
            tc.allPendingMax = 0;
        } else if (q > tc.allPendingMax) {
            tc.allPendingMax = q;
        }
        tc.allPending = q;
        if (tag != 0) {
            countTag(tc, tag, usable, sign);
        }
    }

    /** Untagged bytes are derived (allocated minus every tag's in-use bytes), so only tagged blocks come here. */
    private void countTag(ThreadCache tc, int tag, long usable, int sign) {
        if (tag >= tc.tagPending.length) {
            tc.growTags(tag);
        }
        if (sign > 0) {
            tc.tagRequests[tag]++;
            tc.tagBytes[tag] += usable;
        }
        long p = tc.tagPending[tag] + sign * usable;
        if (p > TagCounters.PUBLISH_BYTES || p < -TagCounters.PUBLISH_BYTES || tc.owner == null) {
            tags.publish(tag, p, tc.tagPendingMax[tag]);
            p = 0;
            tc.tagPendingMax[tag] = 0;
        } else if (p > tc.tagPendingMax[tag]) {
            tc.tagPendingMax[tag] = p;
        }
        tc.tagPending[tag] = p;
    }

    // ---------------------------------------------------------------- slow paths

    /** A block of class cls (or a huge run of req bytes) from the arena or page allocator; -1 when out of memory. */
    private long take(ThreadCache tc, int cls, long req, long runAlign) {
        long off = takeOnce(tc, cls, req, runAlign);
        if (off < 0) {
            Errors.clear(); // a reservation that fails below says so
            recover(tc);
            off = takeOnce(tc, cls, req, runAlign);
            if (off < 0 && Errors.lastReason() == PoolErrorReason.NO_SPACE) {
                fail(PoolErrorReason.NO_SPACE, "out of memory in pool " + name + ": request of " + req + " bytes: " + Errors.last());
            } else if (off < 0) {
                long free = pages.freePages() << SizeClasses.LG_PAGE;
                fail(req > heapBytes ? PoolErrorReason.TOO_LARGE : PoolErrorReason.OUT_OF_MEMORY, "out of memory in pool " + name + ": request of " + req + " bytes; " + free
                        + " bytes free in pages (largest run " + (pages.largestFreeRun() << SizeClasses.LG_PAGE)
                        + ") of " + heapBytes);
            }
            if (off < 0) {
                PoolEvents.exhausted(name, req, Errors.lastReason());
            }
        }
        return off;
    }

    private long takeOnce(ThreadCache tc, int cls, long req, long runAlign) {
        if (tc.flushRequested) {
            tc.flushRequested = false;
            flushAll(tc);
        }
        if (cls >= 0 && SizeClasses.isSmall(cls)) {
            if (tc.caches(cls) && tc.counts[cls] == 0) {
                int want = Math.max(1, tc.caps[cls] / 2);
                int n = tc.arena.fill(cls, tc.bins[cls], want);
                if (n == 0) {
                    return -1;
                }
                tc.counts[cls] = n - 1;
                return tc.bins[cls][n - 1];
            }
            long[] one = new long[1];
            return arenaFor(tc).fill(cls, one, 1) == 1 ? one[0] : -1;
        }
        long npages = cls >= 0 ? SizeClasses.size(cls) >>> SizeClasses.LG_PAGE : SizeClasses.pageCeil(req) >>> SizeClasses.LG_PAGE;
        boolean[] zero = new boolean[1];
        long page = pages.alloc(npages, runAlign, cls >= 0 ? cls : PageMap.HUGE_CLASS, 0, zero);
        if (page < 0) {
            return -1;
        }
        tc.lastZero = zero[0];
        live.set(page << SizeClasses.LG_PAGE);
        return page << SizeClasses.LG_PAGE;
    }

    private Arena arenaFor(ThreadCache tc) {
        if (tc.owner != null) {
            return tc.arena;
        }
        return arenas[(int) (Thread.currentThread().threadId() % arenas.length)];
    }

    /** Out of memory: give back what this thread caches, empty slabs, and ask other threads to do the same. */
    private void recover(ThreadCache tc) {
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
        for (Arena a : arenas) {
            a.trim();
        }
    }

    private void release(long off, int cls, long e) {
        if (cls >= 0 && SizeClasses.isSmall(cls)) {
            slabAt(off).arena.releaseOne(off);
        } else {
            releaseRun(off, PageMap.pages(e));
        }
    }

    /** Returns a page run the caller owns to the page allocator. */
    private void releaseRun(long off, long npages) {
        ALL.set(ValueLayout.JAVA_LONG, heapAddr + off, 0L); // no free key outside the caches
        live.clear(off);
        pages.free(off >>> SizeClasses.LG_PAGE, npages);
    }

    private void flushHalf(ThreadCache tc, int cls) {
        int n = tc.counts[cls];
        int k = Math.max(1, n / 2);
        releaseAll(cls, tc.bins[cls], 0, k);
        System.arraycopy(tc.bins[cls], k, tc.bins[cls], 0, n - k);
        tc.counts[cls] = n - k;
        tc.removed(cls, k);
    }

    void flushAll(ThreadCache tc) {
        for (int cls = 0; cls < tc.counts.length; cls++) {
            int n = tc.counts[cls];
            if (n > 0) {
                tc.counts[cls] = 0;
                tc.removed(cls, n);
                releaseAll(cls, tc.bins[cls], 0, n);
            }
        }
    }

    private void releaseAll(int cls, long[] offs, int from, int to) {
        if (SizeClasses.isSmall(cls)) {
            int i = from;
            while (i < to) {
                Arena a = slabAt(offs[i]).arena;
                int j = i + 1;
                while (j < to && slabAt(offs[j]).arena == a) {
                    j++;
                }
                a.release(offs, i, j);
                i = j;
            }
        } else {
            for (int i = from; i < to; i++) {
                releaseRun(offs[i], SizeClasses.size(cls) >>> SizeClasses.LG_PAGE);
            }
        }
    }

    /** Retires the caches of threads that have ended: their blocks go back, their counters into {@link #retired}. */
    /** Taken by {@link #drainDeadThreads} and by statistics, so a snapshot never sees a dead thread's counters twice or not at all. */
    final Object drainLock = new Object();

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
                synchronized (retired) {
                    for (int i = 0; i < tc.nmalloc.length; i++) {
                        retired.nmalloc[i] += tc.nmalloc[i];
                        retired.nfree[i] += tc.nfree[i];
                    }
                    retired.hugeBytes += tc.hugeBytes;
                    retired.allBytes += tc.allBytes;
                }
                tags.publishTotal(tc.allPending, tc.allPendingMax);
                for (int t = 0; t < tc.tagPending.length; t++) {
                    if (tc.tagPending[t] != 0) {
                        tags.publish(t, tc.tagPending[t], tc.tagPendingMax[t]);
                    }
                    if (tc.tagRequests[t] != 0) {
                        tags.retireRequests(t, tc.tagRequests[t]);
                        tags.retireBytes(t, tc.tagBytes[t]);
                    }
                }
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

    // ---------------------------------------------------------------- slabs

    Slab newSlab(int cls, Arena arena) {
        int npages = SizeClasses.slabPages(cls);
        boolean[] zero = new boolean[1];
        long start = pages.alloc(npages, SizeClasses.PAGE, cls, 0, zero);
        if (start < 0) {
            return null;
        }
        return registerSlab(cls, start, arena);
    }

    private Slab registerSlab(int cls, long start, Arena arena) {
        int id;
        Slab s;
        synchronized (slabLock) {
            id = freeSlabIdCount > 0 ? freeSlabIds[--freeSlabIdCount] : slabIdEnd++;
            s = new Slab(id, cls, start, arena);
            Slab[] table = slabs;
            if (id >= table.length) {
                table = java.util.Arrays.copyOf(table, Math.max(id + 1, table.length * 2));
            }
            table[id] = s;
            slabs = table;
        }
        for (int i = 0; i < SizeClasses.slabPages(cls); i++) {
            pageMap.set(start + i, PageMap.slab(id, cls, i));
        }
        return s;
    }

    void freeSlab(Slab s) {
        synchronized (slabLock) {
            slabs[s.id] = null;
            if (freeSlabIdCount == freeSlabIds.length) {
                freeSlabIds = java.util.Arrays.copyOf(freeSlabIds, freeSlabIdCount * 2);
            }
            freeSlabIds[freeSlabIdCount++] = s.id;
            slabs = slabs; // publish
        }
        pages.free(s.startPage, SizeClasses.slabPages(s.cls));
    }

    Slab slabAt(long off) {
        return slabs[PageMap.slabId(pageMap.get(off >>> SizeClasses.LG_PAGE))];
    }

    Slab slabById(int id) {
        Slab[] t = slabs;
        return id >= 0 && id < t.length ? t[id] : null;
    }

    int slabIdEnd() {
        synchronized (slabLock) {
            return slabIdEnd;
        }
    }

    /** Blocks (and their usable bytes) found live when the pool was reopened: counted as allocated, not as mallocs. */
    long inheritedBlocks;
    long inheritedBytes;

    private void inherit(int cls, long usable) {
        int slot = cls < 0 ? HUGE_SLOT : cls;
        retired.nmalloc[slot]++;
        if (cls < 0) {
            retired.hugeBytes += usable;
        }
        inheritedBlocks++;
        inheritedBytes += usable;
    }

    /**
     * Reopened pool: rebuild free runs and slabs from the page map and live bits. The walk only reads the page map
     * (registering a slab rewrites its own pages with the same layout); slabs are adopted, which may free a surplus
     * empty one, only after the walk: freeing coalesces with the next free run and overwrites that run's head when it
     * is one page long (its head is also its tail), so a walk still in progress would step onto a non-head entry.
     */
    private boolean rebuild() {
        if (!pages.rebuild()) {
            return false;
        }
        List<Slab> found = new ArrayList<>();
        long p = 0;
        int next = 0;
        while (p < pageMap.pages) {
            long e = pageMap.get(p);
            long n = PageAllocator.runLength(p, e);
            if (n <= 0 || p + n > pageMap.pages) {
                return false;
            }
            if (PageMap.kind(e) == PageMap.SLAB) {
                Slab s = registerSlab(PageMap.cls(e), p, arenas[next++ % arenas.length]);
                for (int i = 0; i < s.nregs; i++) {
                    long off = s.heapOffset + (long) i * s.regionSize;
                    if (live.isSet(off)) {
                        s.markTaken(i);
                        inherit(s.cls, SizeClasses.size(s.cls));
                    }
                }
                found.add(s);
            } else if (PageMap.kind(e) == PageMap.LARGE) {
                int cls = PageMap.cls(e);
                inherit(cls == PageMap.HUGE_CLASS ? -1 : cls, n << SizeClasses.LG_PAGE);
            }
            p += n;
        }
        for (Slab s : found) {
            s.arena.adopt(s);
        }
        tags.publishTotal(inheritedBytes, inheritedBytes);
        return true;
    }

    // ---------------------------------------------------------------- misc

    long strdup(byte[] utf8) {
        long a = malloc(utf8.length + 1, 0); // gated by malloc; the copy below writes only the caller's new block
        if (a != 0) {
            MemorySegment.copy(MemorySegment.ofArray(utf8), 0, ALL, a, utf8.length);
            ALL.set(ValueLayout.JAVA_BYTE, a + utf8.length, (byte) 0);
        }
        return a;
    }

    MemorySegment segment(long address) {
        return MemorySegment.ofAddress(address).reinterpret(usableSize(address));
    }

    boolean contains(long address) {
        return address - base >= 0 && address - base < poolSize;
    }

    List<ThreadCache> cachesSnapshot() {
        List<ThreadCache> all;
        synchronized (registry) {
            all = new ArrayList<>(registry);
        }
        all.add(shared);
        all.add(retired);
        return all;
    }

    boolean isClosed() {
        return closed;
    }

    void checkOpen() {
        if (closed) {
            throw new PoolClosedException("pool " + name + " was deleted");
        }
    }

    static long fail(PoolErrorReason reason, String message) {
        Errors.set(reason, message);
        return 0;
    }

    /** Stops new work; the caller then unmaps. */
    void shutdown() {
        closed = true;
        maintenance.stop();
    }

    long purgeNow() {
        return pages.purge(0);
    }

    static MemorySegment all() {
        return ALL;
    }
}
