package io.jvmem.allocator;

/** An operation on a pool that was already deleted or closed. */
public final class PoolClosedException extends PoolException {
    public PoolClosedException(String message) {
        super(message);
    }
}
