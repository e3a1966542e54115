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

    /**
     * malloc(9)'s typed allocation with the type kept by the caller: as {@link #malloc(long, AllocationTag)}, counted
     * under {@code tag} in {@link PoolStats#tags()}, but the pool records no tag with the block, which saves a write
     * at allocation and a read at free. Free it with {@link #free(long, AllocationTag)} and the same tag (FreeBSD's
     * {@code free(addr, type)}). Freed with {@link #free(long)} instead, the block is counted back as untagged (the pool
     * cannot know its tag): {@code tag} keeps its bytes in use and the untagged bytes fall by as many. With the
     * debugging aids ({@link PoolOptions#junkFill()}, {@link PoolOptions#redzones()}) the tag is recorded after all,
     * so that both frees count it right and a wrong tag is caught. Returns 0 when out of memory; a null tag throws
     * NullPointerException. Thread-safe.
     */
    long mallocTyped(long size, AllocationTag tag);

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

    /**
     * FreeBSD malloc(9)'s {@code free(addr, type)}: frees a block of {@link #mallocTyped} that was counted under
     * {@code tag}; 0 is a no-op. Anything that is not a live block of this pool throws {@link InvalidFreeException} as
     * {@link #free(long)} does (a double free included). The pool trusts the tag: another tag than the allocation's
     * moves the block's bytes between the two tags' counters (the pool's totals and its heap stay exact); with the
     * debugging aids it throws {@link InvalidFreeException} instead, the block still allocated. A block whose tag the
     * pool recorded ({@link #malloc(long, AllocationTag)} and the rest) may be freed here too: the recorded tag wins
     * and is cleared, as {@link #free(long)} does (malloc(9)'s pairing of {@code malloc(size, type)} with
     * {@code free(addr, type)}). Thread-safe.
     */
    void free(long address, AllocationTag tag);

    /**
     * {@link #mallocTyped} and {@link #free(long, AllocationTag)} for {@code tag}, resolved once for callers on a hot
     * path (the JDK's arenas under the agent). Thread-safe.
     */
    TypedAllocator typed(AllocationTag tag);

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

    // ---------------------------------------------------------------- malloc(9) and libpmemcto additions

    /**
     * malloc(9) {@code malloc(size, type, flags)}: a block of at least {@code size} bytes, or 0 with a reason. With
     * {@link MallocFlags#M_ZERO} the requested bytes are zero; with {@link MallocFlags#waitOk M_WAITOK} the call waits
     * up to the timeout for other threads to free memory (a {@link #free} wakes it) before it returns 0 with
     * {@link PoolErrorReason#OUT_OF_MEMORY} or {@link PoolErrorReason#NO_SPACE}; with {@link MallocFlags#M_NODUMP}, a
     * pool created without {@link PoolOptions#noDump()} returns 0 with {@link PoolErrorReason#BAD_ARGUMENT}. An
     * interrupt ends a wait: 0, the interrupt status kept; closing the pool ends it with {@link PoolClosedException}.
     * Thread-safe.
     */
    long malloc(long size, MallocFlags flags);

    /** {@link #malloc(long, MallocFlags)} counted under {@code tag}. */
    long malloc(long size, AllocationTag tag, MallocFlags flags);

    /**
     * malloc(9) {@code mallocarray}: an uninitialised block for {@code n × size} bytes. Where malloc(9) panics when
     * n × size overflows, this returns 0 with {@link PoolErrorReason#OVERFLOW} (a negative n or size:
     * {@link PoolErrorReason#NEGATIVE_SIZE}); otherwise as {@link #malloc(long)}. Thread-safe.
     */
    long mallocArray(long n, long size);

    /** {@link #mallocArray(long, long)} counted under {@code tag}. */
    long mallocArray(long n, long size, AllocationTag tag);

    /** {@link #mallocArray(long, long)} with flags, as {@link #malloc(long, MallocFlags)} (M_ZERO makes it calloc). */
    long mallocArray(long n, long size, AllocationTag tag, MallocFlags flags);

    /**
     * {@link #realloc(long, long, AllocationTag)} with flags: M_WAITOK waits as {@link #malloc(long, MallocFlags)};
     * M_ZERO zeroes the bytes past the old usable size (jemalloc's MALLOCX_ZERO: the old size is the boundary).
     * Throws {@link InvalidFreeException} at once for an address that is not a live block. Thread-safe.
     */
    long realloc(long address, long size, AllocationTag tag, MallocFlags flags);

    /**
     * malloc(9) {@code reallocf}: {@link #realloc(long, long)}, except that when the new block cannot be had the old
     * block is freed ("free the passed pointer when the requested memory cannot be allocated"); the result is then 0
     * and {@link #lastErrorReason()} gives the reason. Throws {@link InvalidFreeException} for an address that is not
     * a live block. Thread-safe.
     */
    long reallocf(long address, long size);

    /** {@link #reallocf(long, long)} counted under {@code tag}. */
    long reallocf(long address, long size, AllocationTag tag);

    /**
     * malloc(9) {@code zfree}: zeroes the block's usable bytes ({@link #usableSize}), then frees it. 0 is a no-op;
     * anything that is not a live block throws {@link InvalidFreeException} before a byte is written. Thread-safe.
     */
    void zfree(long address);

    /**
     * pmemcto_wcsdup: a copy of {@code s} as a wide string in the pool, in the platform's {@code wchar_t}: UTF-32
     * (4 bytes per code point, native byte order, as glibc on Linux) ending in a 0 code point; 0 with a reason when
     * the pool is full. Thread-safe.
     */
    long wcsdup(String s);

    /** pmemcto_wcsdup of the NUL-terminated wchar_t string at native address {@code wcString}, or 0. */
    long wcsdup(long wcString);

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
