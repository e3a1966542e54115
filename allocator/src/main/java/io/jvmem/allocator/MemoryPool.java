package io.jvmem.allocator;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * A pool of memory carved up by a malloc-family allocator. Addresses are plain native addresses: any code that reads
 * native memory can use them. Failure to allocate is a result (0), never an exception, so hot paths can fall back;
 * {@link #lastError()} and {@link #lastErrorReason()} tell why. Misuse (double free, foreign pointer, use after
 * delete) is an exception and leaves the pool intact.
 */
public interface MemoryPool extends AutoCloseable {
    /** Uninitialised block of at least {@code size} bytes (0 gives a unique minimal block), or 0 if out of memory. */
    long malloc(long size);

    long malloc(long size, AllocationTag tag);

    /** Zeroed block for {@code count × size} bytes, or 0 (also on overflow). Pages known to be zero are not rewritten. */
    long calloc(long count, long size);

    long calloc(long count, long size, AllocationTag tag);

    /**
     * Resizes a block, keeping its contents up to the smaller size. Address 0 allocates; size 0 frees and returns 0.
     * On failure returns 0 and leaves the original block untouched. A block of a page run (more than 14 KiB) that stays
     * above 14 KiB keeps its address when it shrinks, and when it grows while the pages after it are free; the new
     * bytes are not zeroed. Throws {@link InvalidFreeException} for anything that is not a live block, and (with
     * redzones) {@link HeapCorruptionException}, the block unchanged, when its guard bytes were overwritten.
     */
    long realloc(long address, long size);

    long realloc(long address, long size, AllocationTag tag);

    /** Block whose address is a multiple of {@code alignment} (a power of two, any size up to the pool's). */
    long alignedAlloc(long alignment, long size);

    long alignedAlloc(long alignment, long size, AllocationTag tag);

    /** Frees a block; 0 is a no-op. Throws {@link InvalidFreeException} for anything that is not a live block. */
    void free(long address);

    /** Bytes usable at {@code address}, at least what was requested. */
    long usableSize(long address);

    /** Copy of {@code s} as a NUL-terminated UTF-8 string in the pool, or 0. */
    long strdup(String s);

    /** Copy of the NUL-terminated string at native address {@code cString}, or 0. */
    long strdup(long cString);

    /** Whether {@code address} lies inside this pool's mapping (metadata included). */
    boolean contains(long address);

    /** A view of the block's usable bytes. */
    MemorySegment segment(long address);

    /** A direct ByteBuffer over the first {@code capacity} bytes of the block; free the block explicitly. */
    ByteBuffer byteBuffer(long address, int capacity);

    /** Read-only consistency check of every allocator structure (vmem_check). Exact when no thread allocates. */
    PoolCheck check();

    PoolStats stats();

    /**
     * Statistics as text, or JSON with "J". Letters omit sections as in jemalloc: g general information, m merged
     * arena statistics, a per-arena statistics, b bins (small classes), l large (page-run and huge) classes.
     */
    String statsPrint(String opts);

    /** Returns the calling thread's cached free blocks to the pool (jemalloc's thread.tcache.flush). */
    void flushThreadCache();

    String name();

    /** Bytes mapped for the pool. */
    long size();

    @Override
    void close();

    /** Why the calling thread's last failed pool operation failed (pmemcto_errormsg), or "". */
    static String lastError() {
        return Errors.last();
    }

    /**
     * The reason of the calling thread's last failed pool operation ({@link #lastError()} as a value): for example
     * {@link PoolErrorReason#OUT_OF_MEMORY}, {@link PoolErrorReason#NO_SPACE} when the pool's file could not get the
     * pages, {@link PoolErrorReason#OVERFLOW}, {@link PoolErrorReason#NEGATIVE_SIZE},
     * {@link PoolErrorReason#BAD_ALIGNMENT}; {@link PoolErrorReason#NONE} if none failed on this thread.
     */
    static PoolErrorReason lastErrorReason() {
        return Errors.lastReason();
    }
}
