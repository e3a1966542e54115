package io.jvmem.allocator;

/**
 * The allocator found its own structures, or a block's redzone, overwritten; reason {@link PoolErrorReason#CORRUPT}.
 * The operation that found it did not touch the damaged structure further; {@link MemoryPool#check()} tells the full
 * extent.
 */
public final class HeapCorruptionException extends PoolException {
    public HeapCorruptionException(String message) {
        super(PoolErrorReason.CORRUPT, message);
    }
}
