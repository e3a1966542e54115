package io.jvmem.allocator;

/** An operation on a pool that was already deleted or closed; reason {@link PoolErrorReason#CLOSED}. */
public final class PoolClosedException extends PoolException {
    public PoolClosedException(String message) {
        super(PoolErrorReason.CLOSED, message);
    }
}
