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

    /** Reserves what creation left unreserved on a background thread (see {@link TmpfsFile}); a no-op otherwise. */
    default void reserveRestInBackground() {
    }
}
