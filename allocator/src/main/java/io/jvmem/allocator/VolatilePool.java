package io.jvmem.allocator;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A volatile pool with libvmem semantics: memory from an unlinked temporary file in a directory (or a whole device
 * DAX, or a region the caller owns) that lasts as long as the pool, carved up by a jemalloc-style allocator.
 * Deleting the pool releases the file's space; using a deleted pool throws {@link PoolClosedException}.
 *
 * <pre>{@code
 * try (VolatilePool pool = VolatilePool.create("cache", Path.of("/dev/shm"), 64L << 20)) {
 *     long p = pool.malloc(4096);
 *     pool.segment(p).fill((byte) 1);
 *     pool.free(p);
 * }
 * }</pre>
 */
public final class VolatilePool implements MemoryPool {
    /** Smallest pool, as libvmem's VMEM_MIN_POOL. */
    public static final long MIN_POOL = 14L << 20;

    private static final Cleaner CLEANER = Cleaner.create(Thread.ofPlatform().daemon().name("jvmem-cleaner").factory());

    private final Allocator heap;
    private final PoolFile file;
    private final String path;
    private volatile boolean deleted;

    private VolatilePool(Allocator heap, PoolFile file, String path) {
        this.heap = heap;
        this.file = file;
        this.path = path;
    }

    /** Creates a pool in a new unlinked temporary file in {@code dir}, or on the whole device DAX {@code dir} names. */
    public static VolatilePool create(String name, Path dir, long size) {
        return create(name, dir, size, PoolOptions.DEFAULT);
    }

    public static VolatilePool create(String name, Path dir, long size, PoolOptions options) {
        if (PoolFile.isCharDevice(dir)) {
            return onFile(name, PoolFile.openDevice(dir), dir.toString(), options);
        }
        checkSize(size);
        return onFile(name, PoolFile.createTemp(dir, size), dir.toString(), options);
    }

    /** For tests: a device of known size, or a reservation that fails. */
    static VolatilePool onFile(String name, PoolFile file, String path, PoolOptions options) {
        try {
            checkSize(file.size);
            MemorySegment seg = file.segment();
            PoolLayout layout = PoolLayout.compute(file.size);
            layout.format(seg, PoolLayout.KIND_VOLATILE, "");
            boolean zero = file.canPunch(); // a fresh file reads as zero; a device may hold anything
            Allocator heap = new Allocator(name, seg, layout, file, options, true, zero);
            VolatilePool pool = new VolatilePool(heap, file, path);
            CLEANER.register(pool, new Release(heap, file));
            return pool;
        } catch (RuntimeException e) {
            file.unmap().run();
            throw e;
        }
    }

    /**
     * A pool in a region the caller mapped (vmem_create_in_region): page aligned, at least {@link #MIN_POOL} bytes;
     * its previous contents are overwritten. Deleting the pool does not unmap the region.
     */
    public static VolatilePool createInRegion(String name, MemorySegment region, PoolOptions options) {
        if (region.address() % SizeClasses.PAGE != 0) {
            throw new PoolException("region address 0x" + Long.toHexString(region.address()) + " is not page aligned");
        }
        if (region.isReadOnly()) {
            throw new PoolException("region is read-only");
        }
        checkSize(region.byteSize());
        MemorySegment seg = MemorySegment.ofAddress(region.address()).reinterpret(region.byteSize());
        PoolLayout layout = PoolLayout.compute(seg.byteSize());
        layout.format(seg, PoolLayout.KIND_VOLATILE, "");
        Allocator heap = new Allocator(name, seg, layout, Backing.PINNED, options, true, false);
        return new VolatilePool(heap, null, "region@0x" + Long.toHexString(region.address()));
    }

    public static VolatilePool createInRegion(String name, MemorySegment region) {
        return createInRegion(name, region, PoolOptions.DEFAULT);
    }

    private static void checkSize(long size) {
        if (size < MIN_POOL) {
            throw new PoolException("pool size " + size + " is below the minimum of " + MIN_POOL + " bytes (14 MiB)");
        }
    }

    /** Releases the pool and its space. Further use throws {@link PoolClosedException}; a second delete is a no-op. */
    public void delete() {
        synchronized (this) {
            if (deleted) {
                return;
            }
            deleted = true;
        }
        heap.shutdown();
        if (file != null) {
            Runnable releasePlaceholder = file.unmap();
            CLEANER.register(this, releasePlaceholder);
        }
    }

    @Override
    public void close() {
        delete();
    }

    /** Cleaner action for a pool dropped without delete: no reference to the pool itself. */
    private record Release(Allocator heap, PoolFile file) implements Runnable {
        @Override
        public void run() {
            if (!heap.isClosed()) {
                heap.shutdown();
                file.unmap().run();
            }
        }
    }

    @Override
    public long malloc(long size) {
        return heap.malloc(size, 0);
    }

    @Override
    public long malloc(long size, AllocationTag tag) {
        return heap.malloc(size, tag.id());
    }

    @Override
    public long calloc(long count, long size) {
        return heap.calloc(count, size, 0);
    }

    @Override
    public long calloc(long count, long size, AllocationTag tag) {
        return heap.calloc(count, size, tag.id());
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
        return heap.alignedAlloc(alignment, size, 0);
    }

    @Override
    public long alignedAlloc(long alignment, long size, AllocationTag tag) {
        return heap.alignedAlloc(alignment, size, tag.id());
    }

    @Override
    public void free(long address) {
        heap.free(address);
    }

    @Override
    public long usableSize(long address) {
        return heap.usableSize(address);
    }

    @Override
    public long strdup(String s) {
        heap.checkOpen();
        return heap.strdup(s.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public long strdup(long cString) {
        heap.checkOpen();
        if (cString == 0) {
            return Allocator.fail("strdup of a NULL string");
        }
        return heap.strdup(MemorySegment.ofAddress(cString).reinterpret(Long.MAX_VALUE).getString(0)
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
        return StatsPrinter.print(stats(), heap, opts == null ? "" : opts, path, "volatile");
    }

    @Override
    public String name() {
        return heap.name;
    }

    @Override
    public long size() {
        return heap.poolSize;
    }

    /** Where the pool lives: the directory of its temporary file, the device, or the region. */
    public String path() {
        return path;
    }

    /** Whether the mapping got MAP_SYNC (a DAX file system): CPU cache flushes alone make stores durable. */
    public boolean isSyncMapped() {
        return file != null && file.syncMapped;
    }

    /** Punches out every free dirty page now instead of after the decay time; returns bytes returned. */
    public long purge() {
        heap.checkOpen();
        return heap.purgeNow() << SizeClasses.LG_PAGE;
    }

    /** Returns the calling thread's cached free blocks to the pool (jemalloc's thread.tcache.flush). */
    public void flushThreadCache() {
        heap.checkOpen();
        heap.flushCurrentThread();
    }

    Allocator allocator() {
        return heap;
    }

    @Override
    public String toString() {
        return "VolatilePool[" + heap.name + ", " + heap.poolSize + " bytes, " + path + "]";
    }
}
