package io.jvmem.allocator;

/**
 * free/realloc/usableSize of an address that is not a live block of this pool: a double free, an address that was
 * never allocated, a pointer into the middle of a block, or an address outside the pool; reason
 * {@link PoolErrorReason#INVALID_FREE}. The pool is left intact.
 */
public final class InvalidFreeException extends PoolException {
    private final long address;

    public InvalidFreeException(String message, long address) {
        super(PoolErrorReason.INVALID_FREE, message);
        this.address = address;
    }

    public long address() {
        return address;
    }
}
