package io.jvmem.allocator;

/**
 * What lies under a pool's bytes, as far as the allocator cares: whether freed pages can be handed back (punched)
 * and reserved again (committed). A tmpfs or ext4 file can do both; a device DAX or a caller's region cannot.
 */
interface Backing {
    /** Returns the range's pages to the file system; they then read as zero. False if not supported or failed. */
    boolean punch(long poolOffset, long length);

    /** Reserves space for the range again after a punch; false (with {@link MemoryPool#lastError()} set) if no room. */
    boolean commit(long poolOffset, long length);

    boolean canPunch();

    /**
     * Makes sure the first {@code poolOffsetEnd} bytes are reserved before pages there are handed out; false (with
     * {@link MemoryPool#lastError()} set) if the file system has no room. Reserved up front unless a pool file is
     * reserved in the background.
     */
    default boolean reserveUpTo(long poolOffsetEnd) {
        return true;
    }

    /** Backing that keeps every page forever (device DAX, caller's region). */
    Backing PINNED = new Backing() {
        @Override
        public boolean punch(long poolOffset, long length) {
            return false;
        }

        @Override
        public boolean commit(long poolOffset, long length) {
            return true;
        }

        @Override
        public boolean canPunch() {
            return false;
        }
    };
}
