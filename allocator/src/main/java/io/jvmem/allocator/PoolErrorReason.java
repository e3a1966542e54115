package io.jvmem.allocator;

/**
 * Why a pool operation failed, as a value to switch on instead of message text. Carried by every
 * {@link PoolException} ({@link PoolException#reason()}), by {@link MemoryPool#lastErrorReason()} for allocations
 * that returned 0, and by {@link PoolCheck#reason()} for a check that could not run. A path is not safe when a
 * directory on it (up to /) is writable by everyone without the sticky bit: anyone could swap what it holds.
 */
public enum PoolErrorReason {
    /** No failure: the calling thread's last pool operation has not failed (only from {@code lastErrorReason}). */
    NONE,
    /** A bad argument: a missing or too long layout name, a bad region, a NULL string, a device that is not DAX. */
    BAD_ARGUMENT,
    /** A pool size below the minimum, or a pool too small to be started afresh. */
    TOO_SMALL,
    /** The directory, device or pool file does not exist. */
    NOT_FOUND,
    /** Creating a pool file whose path already exists (create never reuses a file). */
    EXISTS,
    /** The pool path is a directory, FIFO, socket or device where a regular file is needed. */
    NOT_REGULAR_FILE,
    /** The pool path is a symbolic link (never followed). */
    SYMLINK,
    /** The file is another user's or others may write it (or would, by the mode asked), or the path is not safe. */
    UNSAFE_PERMISSIONS,
    /** The pool file is open in this or another process (its exclusive lock is held). */
    LOCKED,
    /** The file system has less room than the pool (create, open of a sparse file) or an allocation's pages need. */
    NO_SPACE,
    /** The file is not a jvmem pool (bad magic, too short, or a pool of another kind). */
    NOT_A_POOL,
    /** The file holds no pool yet: it was never formatted, or its creation was interrupted. */
    UNFORMATTED,
    /** The pool's format version is not one this library reads. */
    VERSION,
    /** The pool's layout name differs from the one asked for. */
    LAYOUT,
    /** The file's size differs from the size in its header (truncated or extended behind the library's back). */
    SIZE_MISMATCH,
    /** A checksum does not match or the allocator's structures are damaged (on media, or found at run time). */
    CORRUPT,
    /** The close-to-open pool was left open by a program that crashed or was killed. */
    NOT_CLOSED_CLEANLY,
    /** Close gave up waiting for an operation in flight; the pool stays marked open. */
    BUSY,
    /** The pool was closed or deleted. */
    CLOSED,
    /** free, realloc, usableSize or setRoot of an address that is not a live block of the pool. */
    INVALID_FREE,
    /** The pool has no run of free pages large enough for the request. */
    OUT_OF_MEMORY,
    /** The request is larger than the pool's whole heap. */
    TOO_LARGE,
    /** calloc's count × size overflows. */
    OVERFLOW,
    /** A negative size or count. */
    NEGATIVE_SIZE,
    /** An alignment that is not a power of two. */
    BAD_ALIGNMENT,
    /** A system call failed for another reason (the message carries the system's error text). */
    IO,
    /** A growable pool reached its maximum size and has no free run large enough for the request. */
    MAX_SIZE,
    /** A NUMA policy names a node that does not exist or has no memory, or the kernel refused it. */
    NUMA_NODE,
    /** The file system's page size differs from the one the pool was made with (a hugetlbfs of other pages). */
    PAGE_SIZE
}
