package io.jvmem.allocator;

import java.lang.foreign.MemorySegment;

/** A mapped file under a pool: its bytes, whether stores reach media without msync, and how the mapping goes away. */
sealed interface MappedFile extends Backing permits PoolFile, TmpfsFile {
    MemorySegment segment();

    long size();

    /** Whether the mapping got MAP_SYNC (a DAX file system). */
    default boolean syncMapped() {
        return false;
    }

    /**
     * Replaces the mapping with an anonymous placeholder and closes the file (its space goes back to the file system).
     * Returns a task that releases the placeholder, to run once nothing can touch the addresses any more.
     */
    Runnable unmap();

    /**
     * Grows the file and its mapping in place to {@code newSize} bytes; false, with the reason in
     * {@link MemoryPool#lastError()}, if it cannot ({@link PoolErrorReason#MAX_SIZE} for a file of fixed size).
     */
    default boolean extendTo(long newSize) {
        Errors.set(PoolErrorReason.MAX_SIZE, "the pool's file cannot grow (no max-size)");
        return false;
    }

    /** Bytes the file may grow to (address space reserved for it): {@link #size()} unless it grows. */
    default long maxSize() {
        return size();
    }

    /** The file system's page size (a hugetlbfs's huge page size, else 4096). */
    default long filePageSize() {
        return SizeClasses.PAGE;
    }

    /**
     * Reserves what creation left unreserved on a background thread, starting after a delay or at the first allocation
     * beyond the reserved part (see {@link TmpfsFile}); a no-op otherwise.
     */
    default void reserveRestInBackground() {
    }
}
