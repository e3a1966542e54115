package io.jvmem.allocator;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
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
     * cares about start-up latency can call this early on another thread (the agent instead opens its pools on a
     * thread of their own).
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
        return !TmpfsFile.isTmpfs(dir) || (size > TmpfsFile.UP_FRONT_MAX && !options.reserveInBackground())
                || placed(size, options);
    }

    /** Whether the pool needs a mapping of its own making: growable, placed, or on huge pages. */
    private static boolean placed(long size, PoolOptions options) {
        return options.maxSize().orElse(size) > size || !Placement.of(options).isDefault();
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
     * {@code size}: refused before anything is taken), {@link PoolErrorReason#NUMA_NODE} (a policy naming a node that
     * does not exist or has no memory), {@link PoolErrorReason#BAD_ARGUMENT} (a size that is not a whole number of a
     * hugetlbfs's pages), {@link PoolErrorReason#IO} (another system call failed). With
     * {@link PoolOptions#maxSize()} the pool starts at {@code size} and grows in place; allocations beyond the maximum
     * fail with {@link PoolErrorReason#MAX_SIZE}.
     */
    public static VolatilePool create(String name, Path dir, long size, PoolOptions options) {
        if (PoolFiles.isCharDevice(dir)) {
            PoolPaths.checkDirectories(PoolPaths.parentOf(dir), dir);
            return onFile(name, PoolFiles.openDevice(dir), dir.toString(), options);
        }
        checkSize(size);
        PoolPaths.checkDirectories(dir, dir);
        if (!createNeedsLinker(dir, size, options)) {
            return onFile(name, TmpfsFile.create(dir, size, options.reserveInBackground()), dir.toString(), options);
        }
        if (placed(size, options) || isHugetlbfs(dir)) {
            Placement placement = Placement.of(options);
            placement.checkNodes();
            long max = Math.max(size, options.maxSize().orElse(size));
            return onFile(name, PoolFiles.createTemp(dir, size, max, placement), dir.toString(), options);
        }
        return onFile(name, PoolFiles.createTemp(dir, size), dir.toString(), options);
    }

    /**
     * Creates a pool of {@code size} bytes (growing up to {@link PoolOptions#maxSize()}) in an anonymous memory file
     * (memfd_create): no directory behind it, so no /dev/shm limit applies (a container's /dev/shm is often 64 MiB),
     * with the same reservation, punching and placement as a tmpfs file. Safe to call from any thread. Throws
     * {@link PoolException} with reason {@link PoolErrorReason#TOO_SMALL}, {@link PoolErrorReason#NO_SPACE} (memory
     * cannot hold the pool's reservation), {@link PoolErrorReason#NUMA_NODE}, {@link PoolErrorReason#IO}.
     */
    public static VolatilePool createMemfd(String name, long size, PoolOptions options) {
        checkSize(size);
        Placement placement = Placement.of(options);
        placement.checkNodes();
        long max = Math.max(size, options.maxSize().orElse(size));
        return onFile(name, PoolFiles.createMemfd(name, size, max, placement), "memfd:", options);
    }

    static boolean isHugetlbfs(Path dir) {
        try {
            return Files.isDirectory(dir) && "hugetlbfs".equals(Files.getFileStore(dir).type());
        } catch (java.io.IOException | SecurityException e) {
            return false;
        }
    }

    /**
     * Reserved at creation when the rest is reserved in the background: the metadata and this much heap. Small, because
     * reserving on tmpfs writes zeros (about 0.5 ms per MiB) on the start-up path: 16 MiB here were 8–17 ms of an
     * agent's start-up. Allocations beyond it reserve what they need themselves if the background is behind.
     */
    static final long FIRST_RESERVE = 2L << 20;

    /** For tests: a device of known size, or a reservation that fails. */
    static VolatilePool onFile(String name, MappedFile file, String path, PoolOptions options) {
        try {
            checkSize(file.size());
            MemorySegment seg = file.segment();
            PoolLayout layout = layoutFor(file, file.size());
            if (!file.reserveUpTo(Math.min(file.size(), layout.heapOffset + FIRST_RESERVE))) {
                throw new PoolException(PoolErrorReason.NO_SPACE, MemoryPool.lastError());
            }
            layout.format(seg, PoolLayout.KIND_VOLATILE, "", file.size());
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
        layout.format(seg, PoolLayout.KIND_VOLATILE, "", seg.byteSize());
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
        Malloc9.closed(this); // M_WAITOK waiters end with PoolClosedException instead of sleeping out their timeout
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
