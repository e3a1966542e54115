package io.jvmem.agent.bridge;

import java.nio.ByteBuffer;

/**
 * What the bridge asks of the agent. At run time this class is renamed {@code java.nio.JvmemHooks} and defined in
 * java.base (see {@code BridgeInstaller}), so every class loader sees it; the agent's implementation extends it. It
 * must not name any other agent class.
 */
public abstract class Hooks {
    /** A zeroed pool block for a buffer of {@code capacity} bytes made at {@code site}, or 0: the JDK allocates. */
    public abstract long allocateDirect(int site, int capacity);

    /** A buffer over a pool block when the JDK's mapped-buffer constructor is unavailable (FFM fallback). */
    public abstract ByteBuffer wrap(long address, int capacity);

    /** A pool block for {@code Unsafe.allocateMemory(size)} at {@code site}, or 0: the JDK allocates. */
    public abstract long allocateMemory(int site, long size);

    /** Frees {@code address} if a pool holds it and returns true; false for any other address. */
    public abstract boolean free(long address);

    /** Whether {@code address} lies in a pool. */
    public abstract boolean owns(long address);

    /** Resizes a pool block in its pool; 0 if the pool has no room (the block is untouched). */
    public abstract long reallocate(int site, long address, long size);

    public abstract long usableSize(long address);

    /** A pool could not serve {@code size} bytes for {@code site}: throws OutOfMemoryError if the route says fail. */
    public abstract void exhausted(int site, long size);

    /** Cleaner action of a pool buffer: frees its block. Must never throw. */
    public abstract void release(long address);
}
