package io.jvmem.allocator;

import java.util.Objects;

/**
 * A pool operation that cannot be carried out: bad arguments, no room to create, a corrupted or foreign pool. The
 * {@link #reason()} says which, for callers to switch on; the message says it for people, in one line.
 */
public class PoolException extends RuntimeException {
    private final PoolErrorReason reason;

    public PoolException(PoolErrorReason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason);
        PoolLog.error(reason, message); // level 1: error details (libpmemcto(7))
    }

    public PoolException(PoolErrorReason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason);
        PoolLog.error(reason, message);
    }

    /** Why the operation failed; never {@link PoolErrorReason#NONE}. */
    public PoolErrorReason reason() {
        return reason;
    }
}
