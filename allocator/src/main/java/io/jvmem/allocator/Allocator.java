package io.jvmem.allocator;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The malloc family over one pool's heap (jemalloc's front end): size classes → thread cache → arena slabs / page
 * allocator. Shared by volatile and close-to-open pools; it keeps all persistent state in the pool (page map, live
 * map) and rebuilds its in-heap indexes (slabs, free runs) from them ({@link Rebuild}). The thread caches live in
 * {@link ThreadCaches}, the slab table in {@link SlabTable}, counters and tags in {@link Accounting}, guard bytes in
 * {@link Redzones}.
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
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    final String name;
    final MemorySegment pool;
    final long base;
    /** Bytes of the pool's file (or region) in use: a growable pool's grow ({@link HeapGrowth}). */
    volatile long poolSize;
    final long heapAddr;
    /** Bytes the heap may grow to: its size, unless the pool grows. Addresses beyond the heap in use have no live bit. */
    final long maxHeapBytes;
    final PoolLayout layout;
    final PageMap pageMap;
    final LiveMap live;
    final PageAllocator pages;
    final HeapArena[] arenas;
    final PoolOptions options;
    final TagCounters tags = new TagCounters();
    /** Taken by every write of the pool header while the pool is open (root, growth), each of which rewrites its checksum. */
    final Object headerLock = new Object();
    final SlabTable slabs;
    final Accounting accounting;
    final ThreadCaches caches;
    /** Junk fill or redzones: every block takes the general paths. */
    final boolean debug;
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
        this.name = name;
        this.pool = pool;
        this.base = pool.address();
        this.poolSize = pool.byteSize();
        this.layout = layout;
        this.heapAddr = base + layout.heapOffset;
        this.maxHeapBytes = layout.maxHeapPages << SizeClasses.LG_PAGE;
        this.options = options;
        this.debug = options.junkFill() || options.redzones();
        this.pageMap = new PageMap(pool, layout, layout.heapPagesAt(poolSize));
        this.live = new LiveMap(pool, layout);
        this.pages = new PageAllocator(pageMap, backing, layout.heapOffset);
        this.pages.setHeapAddress(heapAddr);
        if (backing instanceof MappedFile file && file.maxSize() > file.size()) {
            pages.setGrowth(new HeapGrowth(this, file, layout, pageMap.pages));
        }
        this.slabs = new SlabTable(pageMap, pages);
        this.accounting = new Accounting(pageMap, slabs, tags);
        this.arenas = new HeapArena[options.arenas()];
        for (int i = 0; i < arenas.length; i++) {
            arenas[i] = new HeapArena(i, this);
        }
        this.caches = new ThreadCaches(this, arenas, options.threadCacheMax(), gated);
        if (fresh) {
            if (!heapZero) {
                live.clearAll();
            }
            pages.format(heapZero);
        } else if (!Rebuild.rebuild(this)) {
            throw new PoolException(PoolErrorReason.CORRUPT, "pool metadata is inconsistent (page map does not describe the heap)");
        }
        this.maintenance = new Maintenance(this, options.decayMillis());
    }

    // ---------------------------------------------------------------- malloc family

    long malloc(long size, int tag) {
        return malloc(size, tag, false);
    }

    /**
     * @param kept the caller keeps the tag and passes it back to {@link #free(long, int)} (malloc(9)'s typed free):
     *             the block's tag is counted but not recorded (with the debugging aids it is, and free checks it)
     */
    long malloc(long size, int tag, boolean kept) {
        ThreadCache tc = caches.enter();
        try {
            return malloc(tc, size, tag, kept);
        } finally {
            caches.exit(tc);
        }
    }

    long malloc(ThreadCache tc, long size, int tag, boolean kept) {
        return malloc(tc, size, tag, kept, true);
    }

    /** {@code erase}: clear the free-block key from the block's first word; false if the caller overwrites it first. */
    long malloc(ThreadCache tc, long size, int tag, boolean kept, boolean erase) {
        if (size < 0 || debug) {
            return allocate(tc, size, 1, tag, false);
        }
        int cls = SizeClasses.index(size);
        long off = cls >= 0 ? tc.pop(cls) : -1;
        boolean popped = off >= 0;
        if (!popped) {
            off = take(tc, cls, size, SizeClasses.PAGE);
            if (off < 0) {
                return 0;
            }
        }
        if (erase) {
            eraseFreeKey(off);
        }
        accounting.onAlloc(tc, off, cls, tag, !kept, popped);
        return heapAddr + off;
    }

    long calloc(long count, long size, int tag) {
        ThreadCache tc = caches.enter();
        try {
            return calloc(tc, count, size, tag);
        } finally {
            caches.exit(tc);
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
                onAlloc(tc, off, cls, tag, true);
                long addr = heapAddr + off;
                Zeroing.zero(addr, total);
                return addr;
            }
        }
        return allocate(tc, total, 1, tag, true);
    }

    long alignedAlloc(long alignment, long size, int tag) {
        ThreadCache tc = caches.enter();
        try {
            if (alignment <= 0 || Long.bitCount(alignment) != 1) {
                return fail(PoolErrorReason.BAD_ALIGNMENT, "alignment " + alignment + " is not a power of two");
            }
            return allocate(tc, size, alignment, tag, false);
        } finally {
            caches.exit(tc);
        }
    }

    /** General allocation: any size, alignment, zeroing, and the debugging aids. */
    long allocate(ThreadCache tc, long size, long align, int tag, boolean zero) {
        if (size < 0) {
            return fail(PoolErrorReason.NEGATIVE_SIZE, "negative size " + size);
        }
        boolean rz = options.redzones();
        long lead = rz ? Math.max(Redzones.RZ, align) : 0;
        long req = rz ? size + lead + Redzones.RZ : size;
        if (req < 0 || req > maxHeapBytes || !pages.placeable(req, align, maxHeapBytes)) { // no wait could place it
            return fail(PoolErrorReason.TOO_LARGE, "request of " + size + " bytes" + (align > SizeClasses.PAGE ? " aligned to "
                    + align : "") + " exceeds the pool's heap of " + maxHeapBytes + " bytes" + (maxHeapBytes > heapBytes()
                    ? " at its maximum size" : ""));
        }
        long blockAlign = rz ? Math.max(align, SizeClasses.QUANTUM) : align;
        int cls = classFor(req, blockAlign);
        long off = -1;
        boolean knownZero = false;
        if (cls >= 0 && blockAlign <= SizeClasses.PAGE) {
            off = tc.pop(cls);
        }
        boolean popped = off >= 0;
        if (!popped) {
            tc.lastZero = false;
            off = take(tc, cls, req, Math.max(blockAlign, SizeClasses.PAGE));
            if (off < 0) {
                return 0;
            }
            knownZero = tc.lastZero && tc.owner != null;
        }
        onAlloc(tc, off, cls, tag, popped);
        long addr = heapAddr + off;
        long usable = blockUsable(off);
        if (zero) {
            if (!knownZero) {
                Zeroing.zero(addr, rz ? req : Math.min(usable, Math.max(size, 1)));
            }
        } else if (options.junkFill()) {
            ALL.asSlice(addr, usable).fill(Redzones.JUNK_ALLOC);
        }
        return rz ? Redzones.wrap(addr, lead, size, usable) : addr;
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
        ThreadCache tc = caches.enter();
        try {
            return reallocator.realloc(tc, address, size, tag);
        } finally {
            caches.exit(tc);
        }
    }

    long usableSize(long address) {
        ThreadCache tc = caches.enter();
        try {
            return usableSizeOf(address);
        } finally {
            caches.exit(tc);
        }
    }

    private long usableSizeOf(long address) {
        if (options.redzones()) {
            long off = blockOffset(Redzones.block(this, address, "usableSize"), "usableSize");
            if (!isHandedOut(off)) {
                throw invalid(address, "usableSize", "no live block starts at this address");
            }
            return Redzones.requested(address);
        }
        long off = blockOffset(address, "usableSize");
        if (!isHandedOut(off)) {
            throw invalid(address, "usableSize", "no live block starts at this address");
        }
        return blockUsable(off);
    }

    void free(long address) {
        free(address, Accounting.RECORDED);
    }

    /**
     * @param kept the tag the caller kept for a block of {@link #malloc(long, int, boolean)} with {@code kept} (the
     *             block's record is not read), {@link Accounting#RECORDED}: the tag recorded with the block, or
     *             {@link Accounting#keptUnlessRecorded} of a tag
     */
    void free(long address, int kept) {
        if (address != 0) {
            freeEntered(caches.enter(), address, kept);
        }
    }

    /** {@link #free(long, int)} of a block other than 0 in the thread cache {@code tc} the caller entered; exits it. */
    void freeEntered(ThreadCache tc, long address, int kept) {
        try {
            if (debug || !freeToCache(tc, address, kept)) {
                free(tc, address, kept);
            }
        } finally {
            caches.exit(tc);
        }
    }

    /**
     * The common free, small enough to inline: a live block of a cached class goes onto the thread's stack. Returns
     * false, having changed nothing, for everything else (errors included), which the general path handles.
     */
    private boolean freeToCache(ThreadCache tc, long address, int kept) {
        long off = address - heapAddr;
        if (off < 0 || off >= maxHeapBytes || (off & (SizeClasses.QUANTUM - 1)) != 0 || !live.isSet(off)
                || ALL.get(ValueLayout.JAVA_LONG, address) == (freeSecret ^ address)) {
            return false;
        }
        long e = pageMap.get(off >>> SizeClasses.LG_PAGE);
        int cls = PageMap.cls(e);
        long w;
        int n;
        if (!tc.caches(cls) || (n = ThreadCache.height(w = tc.stack[cls])) == tc.caps[cls]) {
            return false;
        }
        int tag;
        if (PageMap.kind(e) == PageMap.SLAB) {
            tag = kept >= 0 ? kept : accounting.smallTagAtFree(e, off, kept);
        } else if (runToCache(tc, off, e, cls)) {
            tag = Accounting.runTagAtFree(e, kept);
        } else {
            return false;
        }
        accounting.onFree(tc, cls, tag, e, true);
        ALL.set(ValueLayout.JAVA_LONG, address, freeSecret ^ address);
        tc.bins[cls][n] = off; // ThreadCache.push, its checks done above
        tc.stack[cls] = w + ThreadCache.PUSH;
        return true;
    }

    /**
     * For {@link #freeToCache}, out of line to keep it small: whether the block with page map entry {@code e} is a
     * cached page run with room in {@code tc}; if so, its entry's tag is cleared (an untagged malloc need not look)
     * and its bytes counted as cached.
     */
    private boolean runToCache(ThreadCache tc, long off, long e, int cls) {
        if (PageMap.kind(e) != PageMap.LARGE || !PageMap.isHead(e) || cls == PageMap.HUGE_CLASS || !tc.roomFor(cls)) {
            return false;
        }
        if (PageMap.tag(e) != 0) {
            accounting.untagRun(off, e);
        }
        tc.largeBytes += SizeClasses.size(cls);
        return true;
    }

    void free(ThreadCache tc, long address, int kept) {
        if (address == 0) {
            return;
        }
        String damage = null;
        long block = address;
        long requested = -1;
        if (options.redzones()) {
            block = Redzones.block(this, address, "free");
            requested = Redzones.requested(address);
        }
        long off = blockOffset(block, "free");
        if (!live.isSet(off)) {
            throw invalid(address, "free", Checker.notLive(this, off));
        }
        if (ALL.get(ValueLayout.JAVA_LONG, block) == (freeSecret ^ block)) {
            throw invalid(address, "free", "double free (the block is already free in a thread cache)");
        }
        long e = pageMap.get(off >>> SizeClasses.LG_PAGE);
        int kind = PageMap.kind(e);
        if (kind != PageMap.SLAB && (kind != PageMap.LARGE || !PageMap.isHead(e))) {
            throw new HeapCorruptionException("page map entry of live block 0x" + Long.toHexString(address)
                    + " is not in use (pool metadata damaged)");
        }
        if (debug && kept != Accounting.RECORDED) { // the debugging aids record kept tags: a wrong one throws
            accounting.checkKept(this, address, off, e, Accounting.keptTag(kept));
        }
        int cls;
        int tag;
        if (kind == PageMap.SLAB) {
            cls = PageMap.cls(e);
            tag = kept >= 0 && !debug ? kept : accounting.smallTagAtFree(e, off, kept >= 0 ? Accounting.RECORDED : kept);
        } else {
            cls = PageMap.cls(e) == PageMap.HUGE_CLASS ? -1 : PageMap.cls(e);
            tag = Accounting.runTagAtFree(e, kept);
        }
        if (debug) {
            long usable = blockUsable(off);
            if (requested >= 0) {
                damage = Redzones.check(block, address, requested, usable);
            }
            if (options.junkFill()) {
                ALL.asSlice(block, usable).fill(Redzones.JUNK_FREE);
            }
        }
        boolean toStack = cls >= 0 && tc.caches(cls) && tc.roomFor(cls);
        accounting.onFree(tc, cls, tag, e, toStack);
        if (!toStack) {
            release(off, cls, e);
        } else {
            if (PageMap.tag(e) != 0 && kind == PageMap.LARGE) {
                accounting.untagRun(off, e);
            }
            ALL.set(ValueLayout.JAVA_LONG, block, freeSecret ^ block);
            if (options.redzones()) {
                Redzones.markFreed(address);
            }
            if (!tc.push(cls, off)) {
                caches.flushHalf(tc, cls);
                tc.push(cls, off);
            }
        }
        if (damage != null) {
            throw new HeapCorruptionException(damage);
        }
    }

    // ---------------------------------------------------------------- blocks

    boolean isLiveBlock(long address) {
        long off = address - heapAddr;
        return off >= 0 && off < heapBytes() && (off & (SizeClasses.QUANTUM - 1)) == 0 && isHandedOut(off);
    }

    /** In the user's hands: handed out by its slab or the page allocator, and not resting in a thread cache. */
    boolean isHandedOut(long off) {
        return live.isSet(off) && !hasFreeKey(off);
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

    /** Heap offset of a would-be block address, or an InvalidFreeException saying why it cannot be one. */
    long blockOffset(long address, String op) {
        long off = address - heapAddr;
        if (off < 0 || off >= heapBytes()) {
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

    /** A block handed out: its free key erased, its bytes counted; {@code popped}: it came off the thread's stack. */
    void onAlloc(ThreadCache tc, long off, int cls, int tag, boolean popped) {
        eraseFreeKey(off);
        accounting.onAlloc(tc, off, cls, tag, true, popped);
    }

    /** Per-thread counters of one block handed out ({@code sign} 1) or taken back (-1); see {@link Accounting}. */
    void count(ThreadCache tc, int cls, long usable, int tag, int sign) {
        accounting.count(tc, cls, usable, tag, sign);
    }

    // ---------------------------------------------------------------- slow paths

    /** A block of class cls (or a huge run of req bytes) from the arena or page allocator; -1 when out of memory. */
    private long take(ThreadCache tc, int cls, long req, long runAlign) {
        long off = takeOnce(tc, cls, req, runAlign);
        if (off < 0) {
            Errors.clear(); // a reservation that fails below says so
            caches.recover(tc);
            off = takeOnce(tc, cls, req, runAlign);
            if (off < 0 && Errors.lastReason() == PoolErrorReason.NO_SPACE) {
                fail(PoolErrorReason.NO_SPACE, "out of memory in pool " + name + ": request of " + req + " bytes: " + Errors.last());
            } else if (off < 0) {
                long free = pages.freePages() << SizeClasses.LG_PAGE;
                PoolErrorReason why = req > maxHeapBytes ? PoolErrorReason.TOO_LARGE
                        : Errors.lastReason() == PoolErrorReason.MAX_SIZE ? PoolErrorReason.MAX_SIZE : PoolErrorReason.OUT_OF_MEMORY;
                fail(why, "out of memory in pool " + name + ": request of " + req + " bytes; " + free
                        + " bytes free in pages (largest run " + (pages.largestFreeRun() << SizeClasses.LG_PAGE)
                        + ") of " + heapBytes() + (why == PoolErrorReason.MAX_SIZE ? ": " + Errors.last() : ""));
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
            caches.flushAll(tc);
        }
        if (cls >= 0 && SizeClasses.isSmall(cls)) {
            if (tc.caches(cls) && tc.height(cls) == 0) {
                int want = Math.max(1, tc.caps[cls] / 2);
                int n = tc.arena.fill(cls, tc.bins[cls], want);
                if (n == 0) {
                    return -1;
                }
                tc.setHeight(cls, n - 1);
                return tc.bins[cls][n - 1];
            }
            long[] one = new long[1];
            return caches.arenaFor(tc).fill(cls, one, 1) == 1 ? one[0] : -1;
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

    private void release(long off, int cls, long e) {
        if (cls >= 0 && SizeClasses.isSmall(cls)) {
            slabs.slabAt(off).arena.releaseOne(off);
        } else {
            releaseRun(off, PageMap.pages(e));
        }
    }

    /** Returns a page run the caller owns to the page allocator. */
    void releaseRun(long off, long npages) {
        eraseFreeKey(off); // no free key outside the caches
        live.clear(off);
        pages.free(off >>> SizeClasses.LG_PAGE, npages);
    }

    // ---------------------------------------------------------------- misc

    MemorySegment segment(long address) {
        return MemorySegment.ofAddress(address).reinterpret(usableSize(address));
    }

    /** Bytes of heap in use now (a growable pool's grow). */
    long heapBytes() {
        return pageMap.pages << SizeClasses.LG_PAGE;
    }

    boolean contains(long address) {
        return address - base >= 0 && address - base < poolSize;
    }

    boolean quiesce(long timeoutMillis) {
        return caches.quiesce(timeoutMillis);
    }

    boolean isClosed() {
        return caches.isClosed();
    }

    void checkOpen() {
        if (caches.isClosed()) {
            throw new PoolClosedException("pool " + name + " was deleted");
        }
    }

    static long fail(PoolErrorReason reason, String message) {
        Errors.set(reason, message);
        return 0;
    }

    /** Stops new work; the caller then unmaps. */
    void shutdown() {
        caches.close();
        maintenance.stop();
    }

    long purgeNow() {
        return pages.purge(0);
    }

    static MemorySegment all() {
        return ALL;
    }
}
