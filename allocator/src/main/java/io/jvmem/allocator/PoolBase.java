package io.jvmem.allocator;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** The malloc family, views, check and statistics, shared by every pool kind: each delegates to its allocator. */
abstract sealed class PoolBase implements MemoryPool permits VolatilePool, CtoPool {
    /** Releases what a dropped or closed pool leaves mapped (placeholders), off the allocation paths. */
    static final java.lang.ref.Cleaner CLEANER = java.lang.ref.Cleaner.create(new java.util.concurrent.ThreadFactory() {
        @Override
        public Thread newThread(Runnable r) { // not Thread.ofPlatform().factory(): its class costs 2 ms of start-up
            Thread t = new Thread(r, "jvmem-cleaner");
            t.setDaemon(true);
            return t;
        }
    });

    final Allocator heap;
    final Waiters waiters = new Waiters();
    private final String path;
    private final String kind;

    /** The JMX view; registered in the background by {@link #announce}. */
    private final PoolMonitor monitor;

    PoolBase(Allocator heap, String path, String kind) {
        NoDump.apply(heap); // PoolOptions.noDump: MADV_DONTDUMP before the pool is handed out
        if (PoolLog.enabled(2)) { // no lambda here: its bootstrap costs every pool's creation (and an agent's start-up)
            PoolLog.trace(() -> kind + " pool " + heap.name + " at " + path + ": " + heap.poolSize + " bytes");
        }
        this.heap = heap;
        this.path = path;
        this.kind = kind;
        this.monitor = new PoolMonitor(this, kind);
    }

    /**
     * Says that the pool exists: a JFR event (created, or opened with its contents) and its MXBeans, registered on
     * the platform MBean server in the background ({@link Mbeans}). Called once by each factory.
     */
    @SuppressWarnings("unchecked")
    final <P extends PoolBase> P announce(boolean created) {
        if (created) {
            PoolEvents.created(this, kind);
        } else {
            PoolEvents.opened(this);
        }
        Mbeans.registerLater(monitor.objectName(), monitor);
        Mbeans.registerLater(monitor.bufferPoolName(), monitor.bufferPool());
        return (P) this;
    }

    /** The pool is closing: keep the JMX view's last values, unregister it, and record the JFR event. */
    final void retire() {
        monitor.closing();
        Mbeans.unregisterLater(monitor.objectName());
        Mbeans.unregisterLater(monitor.bufferPoolName());
        long inUse = 0;
        long peak = 0;
        try {
            PoolStats s = StatsCollector.collect(heap);
            inUse = s.allocated();
            peak = s.peakAllocated();
        } catch (RuntimeException ignored) {
            // statistics of a pool in trouble: the event still says it closed
        }
        PoolEvents.closed(this, kind, inUse, peak);
    }

    /**
     * Where the JMX attribute {@code Fallbacks} reads from: the agent counts requests this pool could not serve that
     * went to the JDK. A library pool reports 0.
     */
    public void fallbacksFrom(java.util.function.LongSupplier counter) {
        monitor.fallbacksFrom(counter);
    }

    /** This pool's JMX view (also reachable through the platform MBean server once registered). */
    public PoolMXBean mxBean() {
        return monitor;
    }

    @Override
    public long malloc(long size) {
        long a = heap.malloc(size, 0);
        if (a != 0) {
            PoolEvents.sample(this, size, null);
        }
        return a;
    }

    @Override
    public long malloc(long size, AllocationTag tag) {
        long a = heap.malloc(size, tag.id());
        if (a != 0) {
            PoolEvents.sample(this, size, tag);
        }
        return a;
    }

    @Override
    public long mallocTyped(long size, AllocationTag tag) {
        long a = heap.malloc(size, java.util.Objects.requireNonNull(tag, "tag").id(), true);
        if (a != 0) {
            PoolEvents.sample(this, size, tag);
        }
        return a;
    }

    @Override
    public long calloc(long count, long size) {
        long a = heap.calloc(count, size, 0);
        if (a != 0) {
            PoolEvents.sample(this, count * size, null);
        }
        return a;
    }

    @Override
    public long calloc(long count, long size, AllocationTag tag) {
        long a = heap.calloc(count, size, tag.id());
        if (a != 0) {
            PoolEvents.sample(this, count * size, tag);
        }
        return a;
    }

    @Override
    public long realloc(long address, long size) {
        return heap.realloc(address, size, 0);
    }

    @Override
    public long realloc(long address, long size, AllocationTag tag) {
        return heap.realloc(address, size, tag.id());
    }

    @Override
    public long alignedAlloc(long alignment, long size) {
        long a = heap.alignedAlloc(alignment, size, 0);
        if (a != 0) {
            PoolEvents.sample(this, size, null);
        }
        return a;
    }

    @Override
    public long alignedAlloc(long alignment, long size, AllocationTag tag) {
        long a = heap.alignedAlloc(alignment, size, tag.id());
        if (a != 0) {
            PoolEvents.sample(this, size, tag);
        }
        return a;
    }

    @Override
    public void free(long address) {
        heap.free(address);
        Malloc9.freed(this); // M_WAITOK callers wait for this
    }

    @Override
    public TypedAllocator typed(AllocationTag tag) {
        return new TypedAllocator(this, java.util.Objects.requireNonNull(tag, "tag"));
    }

    @Override
    public void free(long address, AllocationTag tag) {
        if (address == 0) {
            return; // a no-op whatever the tag, as free(0)
        }
        heap.free(address, Accounting.keptUnlessRecorded(java.util.Objects.requireNonNull(tag, "tag").id()));
        Malloc9.freed(this);
    }

    @Override
    public long usableSize(long address) {
        return heap.usableSize(address);
    }

    @Override
    public long strdup(String s) {
        heap.checkOpen();
        return Malloc9.strdup(heap, s.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public long strdup(long cString) {
        heap.checkOpen();
        if (cString == 0) {
            return Allocator.fail(PoolErrorReason.BAD_ARGUMENT, "strdup of a NULL string");
        }
        return Malloc9.strdup(heap, MemorySegment.ofAddress(cString).reinterpret(Long.MAX_VALUE).getString(0)
                .getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public boolean contains(long address) {
        return heap.contains(address);
    }

    @Override
    public MemorySegment segment(long address) {
        return heap.segment(address);
    }

    @Override
    public ByteBuffer byteBuffer(long address, int capacity) {
        MemorySegment s = heap.segment(address);
        if (capacity < 0 || capacity > s.byteSize()) {
            throw new IllegalArgumentException("capacity " + capacity + " exceeds the block's " + s.byteSize() + " usable bytes");
        }
        return s.asSlice(0, capacity).asByteBuffer();
    }

    @Override
    public PoolCheck check() {
        return Checker.check(heap);
    }

    @Override
    public PoolStats stats() {
        heap.checkOpen();
        return StatsCollector.collect(heap);
    }

    @Override
    public String statsPrint(String opts) {
        return StatsPrinter.print(stats(), heap, opts == null ? "" : opts, path, kind);
    }

    @Override
    public String name() {
        return heap.name;
    }

    @Override
    public long size() {
        return heap.poolSize;
    }

    /** Where the pool lives: the directory of its temporary file, the device, the region, or the pool file. */
    public String path() {
        return path;
    }

    /** Punches out every free dirty page now instead of after the decay time; returns bytes returned. */
    public long purge() {
        heap.checkOpen();
        Object e = PoolEvents.beginPurge();
        long bytes = heap.purgeNow() << SizeClasses.LG_PAGE;
        PoolEvents.endPurge(e, heap.name, bytes);
        return bytes;
    }

    /** Returns the calling thread's cached free blocks to the pool (jemalloc's thread.tcache.flush). */
    public void flushThreadCache() {
        heap.checkOpen();
        heap.caches.flushCurrentThread();
    }

    /** Smallest heap a pool starts with, so that its metadata (laid out for the maximum size) leaves room. */
    static final long MIN_HEAP = 1L << 20;

    /**
     * The layout of a new pool on {@code file} starting at {@code size} bytes: laid out for the file's maximum size and
     * page size. Throws {@link PoolErrorReason#TOO_SMALL} when the metadata for the maximum leaves less than
     * {@link #MIN_HEAP} of heap in the initial size.
     */
    static PoolLayout layoutFor(MappedFile file, long size) {
        PoolLayout layout = PoolLayout.compute(file.maxSize(), file.filePageSize());
        if (layout.heapPagesAt(size) << SizeClasses.LG_PAGE < MIN_HEAP) {
            throw new PoolException(PoolErrorReason.TOO_SMALL, "pool size " + size + " is too small for a maximum size of "
                    + file.maxSize() + ": the metadata for the maximum takes " + layout.heapOffset
                    + " bytes; give a size of at least " + (layout.heapOffset + MIN_HEAP) + " bytes");
        }
        return layout;
    }

    Allocator allocator() {
        return heap;
    }

    // ---------------------------------------------------------------- malloc(9) and libpmemcto additions (Malloc9)

    @Override
    public long malloc(long size, MallocFlags flags) {
        return Malloc9.traced(this, "malloc", size, 0, Malloc9.malloc(this, size, 0, flags));
    }

    @Override
    public long malloc(long size, AllocationTag tag, MallocFlags flags) {
        return Malloc9.traced(this, "malloc", size, 0, Malloc9.malloc(this, size, tag.id(), flags));
    }

    @Override
    public long mallocArray(long n, long size) {
        return Malloc9.traced(this, "mallocArray", n, size, Malloc9.mallocArray(this, n, size, 0, MallocFlags.NONE));
    }

    @Override
    public long mallocArray(long n, long size, AllocationTag tag) {
        return Malloc9.traced(this, "mallocArray", n, size, Malloc9.mallocArray(this, n, size, tag.id(), MallocFlags.NONE));
    }

    @Override
    public long mallocArray(long n, long size, AllocationTag tag, MallocFlags flags) {
        return Malloc9.traced(this, "mallocArray", n, size, Malloc9.mallocArray(this, n, size, tag.id(), flags));
    }

    @Override
    public long realloc(long address, long size, AllocationTag tag, MallocFlags flags) {
        return Malloc9.traced(this, "realloc", address, size, Malloc9.realloc(this, address, size, tag.id(), flags));
    }

    @Override
    public long reallocf(long address, long size) {
        return Malloc9.traced(this, "reallocf", address, size, Malloc9.reallocf(this, address, size, 0));
    }

    @Override
    public long reallocf(long address, long size, AllocationTag tag) {
        return Malloc9.traced(this, "reallocf", address, size, Malloc9.reallocf(this, address, size, tag.id()));
    }

    @Override
    public void zfree(long address) {
        Malloc9.zfree(this, address);
        Malloc9.traced(this, "zfree", address, 0, 0);
    }

    @Override
    public long wcsdup(String s) {
        heap.checkOpen();
        return Malloc9.traced(this, "wcsdup", s.length(), 0, Malloc9.wcsdup(this, s.codePoints().toArray()));
    }

    @Override
    public long wcsdup(long wcString) {
        heap.checkOpen();
        if (wcString == 0) {
            return Allocator.fail(PoolErrorReason.BAD_ARGUMENT, "wcsdup of a NULL string");
        }
        return Malloc9.traced(this, "wcsdup", wcString, 0, Malloc9.wcsdup(this, Malloc9.readWide(wcString, Integer.MAX_VALUE - 1)));
    }
}
