package sample.reach;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * An arena a program implements by decorating one of the JDK's: it counts what it hands out and overrides some of
 * {@code SegmentAllocator}'s default methods only to call them again through {@code Arena.super} (an
 * {@code invokespecial} of the intercepted member on the program's own object), as wrappers that log or check do.
 */
public final class DecoratingArena implements Arena {
    private final Arena inner = Arena.ofConfined();
    private long bytes;
    private int strings;

    /** Bytes handed out through {@link #allocate(long, long)}. */
    public long bytes() {
        return bytes;
    }

    /** Strings allocated through {@link #allocateFrom(String)}. */
    public int strings() {
        return strings;
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        bytes += byteSize;
        return inner.allocate(byteSize, byteAlignment);
    }

    @Override
    public MemorySegment allocate(long byteSize) {
        return Arena.super.allocate(byteSize); // the default: allocate(byteSize, 1) on this arena
    }

    @Override
    public MemorySegment allocateFrom(String s) {
        strings++;
        return Arena.super.allocateFrom(s);
    }

    @Override
    public MemorySegment.Scope scope() {
        return inner.scope();
    }

    @Override
    public void close() {
        inner.close();
    }
}
