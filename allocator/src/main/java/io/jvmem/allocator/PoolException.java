package io.jvmem.allocator;

/** A pool operation that cannot be carried out: bad arguments, no room to create, corrupted or foreign pool. */
public class PoolException extends RuntimeException {
    public PoolException(String message) {
        super(message);
    }

    public PoolException(String message, Throwable cause) {
        super(message, cause);
    }
}
