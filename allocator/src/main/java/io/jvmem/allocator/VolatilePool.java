package io.jvmem.allocator;

import java.lang.foreign.MemorySegment;
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
public final class VolatilePool extends PoolBase {
    /** Smallest pool, as libvmem's VMEM_MIN_POOL. */
    public static final long MIN_POOL = 14L << 20;

    private final MappedFile file;
    private volatile boolean deleted;

    private VolatilePool(Allocator heap, MappedFile file, String path) {
        super(heap, path, "volatile");
        this.file = file;
    }

    /**
     * Prepares the native bindings that creating a pool needs. Optional: creation does it itself; a program that
     * cares about start-up latency can call this early on another thread (the agent does).
     */
    public static void preload() {
        Native.preload();
    }

    /**
     * Whether {@link #create(String, Path, long, PoolOptions)} in {@code dir} will use the FFM linker (whose first use is
     * slow, see {@link #preload()}): false for a tmpfs directory and a pool of up to 256 MiB, or of any size reserved
     * in the background, which the JDK's file API creates.
     */
    public static boolean createNeedsLinker(Path dir, long size, PoolOptions options) {
        return !TmpfsFile.isTmpfs(dir) || (size > TmpfsFile.UP_FRONT_MAX && !options.reserveInBackground());
    }

    public static VolatilePool create(String name, Path dir, long size) {
        return create(name, dir, size, PoolOptions.DEFAULT);
    }

    /**
     * Creates a pool of {@code size} bytes in a new unlinked temporary file in {@code dir}, or on the whole device DAX
     * {@code dir} names. Safe to call from any thread. Throws {@link PoolException} with reason
     * {@link PoolErrorReason#TOO_SMALL} (below {@link #MIN_POOL}), {@link PoolErrorReason#NOT_FOUND} (no such
     * directory), {@link PoolErrorReason#UNSAFE_PERMISSIONS} ({@code dir} or a directory above it is writable by
     * everyone without the sticky bit), {@link PoolErrorReason#NO_SPACE} (the file system has less free space than
     * {@code size}: refused before anything is taken), {@link PoolErrorReason#IO} (another system call failed).
     */
    public static VolatilePool create(String name, Path dir, long size, PoolOptions options) {
        if (PoolFile.isCharDevice(dir)) {
            PoolPaths.checkDirectories(PoolPaths.parentOf(dir), dir);
            return onFile(name, PoolFile.openDevice(dir), dir.toString(), options);
        }
        checkSize(size);
        PoolPaths.checkDirectories(dir, dir);
        if (!createNeedsLinker(dir, size, options)) {
            return onFile(name, TmpfsFile.create(dir, size, options.reserveInBackground()), dir.toString(), options);
        }
        return onFile(name, PoolFile.createTemp(dir, size), dir.toString(), options);
    }

    /** Reserved at creation when the rest is reserved in the background: the metadata and this much heap. */
    static final long FIRST_RESERVE = 16L << 20;

    /** For tests: a device of known size, or a reservation that fails. */
    static VolatilePool onFile(String name, MappedFile file, String path, PoolOptions options) {
        try {
            checkSize(file.size());
            MemorySegment seg = file.segment();
            PoolLayout layout = PoolLayout.compute(file.size());
            if (!file.reserveUpTo(Math.min(file.size(), layout.heapOffset + FIRST_RESERVE))) {
                throw new PoolException(PoolErrorReason.NO_SPACE, MemoryPool.lastError());
            }
            layout.format(seg, PoolLayout.KIND_VOLATILE, "");
            boolean zero = file.canPunch(); // a fresh file reads as zero; a device may hold anything
            Allocator heap = new Allocator(name, seg, layout, file, options, true, zero);
            VolatilePool pool = new VolatilePool(heap, file, path);
            CLEANER.register(pool, new Release(heap, file));
            file.reserveRestInBackground();
            pool.announce(true);
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
            throw new PoolException(PoolErrorReason.BAD_ARGUMENT, "region address 0x" + Long.toHexString(region.address())
                    + " is not page aligned");
        }
        if (region.isReadOnly()) {
            throw new PoolException(PoolErrorReason.BAD_ARGUMENT, "region is read-only");
        }
        checkSize(region.byteSize());
        MemorySegment seg = MemorySegment.ofAddress(region.address()).reinterpret(region.byteSize());
        PoolLayout layout = PoolLayout.compute(seg.byteSize());
        layout.format(seg, PoolLayout.KIND_VOLATILE, "");
        Allocator heap = new Allocator(name, seg, layout, Backing.PINNED, options, true, false);
        VolatilePool pool = new VolatilePool(heap, null, "region@0x" + Long.toHexString(region.address()));
        pool.announce(true);
        return pool;
    }

    public static VolatilePool createInRegion(String name, MemorySegment region) {
        return createInRegion(name, region, PoolOptions.DEFAULT);
    }

    private static void checkSize(long size) {
        if (size < MIN_POOL) {
            throw new PoolException(PoolErrorReason.TOO_SMALL, "pool size " + size + " is below the minimum of " + MIN_POOL
                    + " bytes (14 MiB)");
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
        retire();
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
    private record Release(Allocator heap, MappedFile file) implements Runnable {
        @Override
        public void run() {
            if (!heap.isClosed()) {
                heap.shutdown();
                file.unmap().run();
            }
        }
    }

    /** Whether the mapping got MAP_SYNC (a DAX file system): CPU cache flushes alone make stores durable. */
    public boolean isSyncMapped() {
        return file != null && file.syncMapped();
    }

    @Override
    public String toString() {
        return "VolatilePool[" + heap.name + ", " + heap.poolSize + " bytes, " + path() + "]";
    }
}
