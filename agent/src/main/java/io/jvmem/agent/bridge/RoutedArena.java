package io.jvmem.agent.bridge;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The arena a routed call site allocates through (renamed {@code java.nio.JvmemArena}): it stands for one of the JDK's
 * own arenas ({@code ofConfined}, {@code ofShared}, {@code ofAuto}, {@code global}) for the length of a call, takes
 * the memory from the site's pool and attaches it to that arena. The segment is the JDK's kind of native segment
 * ({@code MemorySegment.reinterpret(size, arena, cleanup)}): its scope is the caller's arena, so confinement,
 * {@code isAlive}, access after close and {@code asByteBuffer} behave as for the JDK's own segments, and closing the
 * arena (or, for {@code ofAuto}, its becoming unreachable) returns the block to the pool once. Every other
 * {@code SegmentAllocator} method is inherited and funnels into {@link #allocate(long, long)}.
 */
final class RoutedArena implements Arena {
    private final Arena arena;
    private final int site;

    RoutedArena(Arena arena, int site) {
        this.arena = arena;
        this.site = site;
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        return allocate(arena, byteSize, byteAlignment, site);
    }

    /**
     * {@code arena.allocate(byteSize, byteAlignment)} for one of the JDK's arenas, with the memory from {@code site}'s
     * pool: no object of ours stands between the caller and its arena, so the JIT can inline the whole path.
     */
    @ForceInlineStub
    static MemorySegment allocate(Arena arena, long byteSize, long byteAlignment, int site) {
        if (byteSize < 0 || byteAlignment <= 0 || (byteAlignment & (byteAlignment - 1)) != 0) {
            return arena.allocate(byteSize, byteAlignment); // the JDK's IllegalArgumentException
        }
        long a = Bridge.h.allocateSegment(site, byteSize, byteAlignment, true);
        if (a == 0) {
            return arena.allocate(byteSize, byteAlignment); // not routed (min-size, fallback): the JDK's memory
        }
        try {
            MemorySegment s = MemorySegment.ofAddress(a).reinterpret(byteSize, arena, new Release(a));
            if (arena == GLOBAL) {
                Bridge.h.global(site, a, byteSize); // for the leak report: only the program's exit frees it
            }
            return s;
        } catch (Throwable t) { // a closed arena, or a confined one used from another thread: the JDK's exception
            Bridge.h.release(a);
            throw t;
        }
    }

    /** The class of every arena {@code Arena.ofConfined/ofShared/ofAuto/global} returns (JDK 22 to 25). */
    private static final Class<?> JDK_ARENA = Arena.global().getClass();
    private static final Arena GLOBAL = Arena.global();

    /** Whether {@code a} is one of the JDK's own arenas (a program's own arenas are left alone). */
    @ForceInlineStub
    static boolean isJdkArena(Object a) {
        return a != null && (a.getClass() == JDK_ARENA
                || !(a instanceof RoutedArena) && a instanceof Arena && a.getClass().getModule() == Object.class.getModule());
    }

    @Override
    public MemorySegment.Scope scope() {
        return arena.scope();
    }

    @Override
    public void close() {
        arena.close();
    }

    /** The routing arena for {@code a} when it is one of the JDK's arenas; any other allocator is left alone. */
    static Arena of(Arena a, int site) {
        if (site == 0 || !isJdkArena(a)) {
            return a;
        }
        return new RoutedArena(a, site);
    }
}
