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
     * {@code SegmentAllocator}'s own default, but sized as the JDK's arenas size it (their {@code allocateNoInit}: the
     * element size times the count, unchecked): a negative or overflowing count gets their exception and message, not
     * the default's "Negative array size" for other allocators. The block is zeroed before the copy, which the JDK's
     * arenas skip.
     */
    @Override
    public MemorySegment allocateFrom(java.lang.foreign.ValueLayout elementLayout, MemorySegment source,
                                      java.lang.foreign.ValueLayout sourceElementLayout, long sourceOffset, long elementCount) {
        java.util.Objects.requireNonNull(source);
        java.util.Objects.requireNonNull(sourceElementLayout);
        java.util.Objects.requireNonNull(elementLayout);
        MemorySegment dest = allocate(elementLayout.byteSize() * elementCount, elementLayout.byteAlignment());
        MemorySegment.copy(source, sourceElementLayout, sourceOffset, dest, elementLayout, 0, elementCount);
        return dest;
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
        checkValid(arena); // the JDK's first step: a closed or foreign arena throws before any memory is taken
        Object s = site(site);
        long a = block(s, byteSize, byteAlignment);
        if (a <= 0) {
            if (a == Hooks.FULL) {
                a = reclaim(s, byteSize, byteAlignment);
            }
            if (a == 0) {
                return arena.allocate(byteSize, byteAlignment); // not routed (min-size, fallback): the JDK's memory
            }
        }
        zero(a, byteSize);
        // at most the quantum's alignment, the block is typed: its release gives the site's tag back
        Object typed = byteAlignment <= Hooks.TYPED_ALIGNMENT ? s : null;
        boolean confined = arena.scope().getClass() == CONFINED;
        MemorySegment segment;
        try {
            // the JDK's order: the arena's state is checked first, the cleanup registered last
            segment = SESSION_CLEANUP ? MemorySegment.ofAddress(a).reinterpret(byteSize, arena, null)
                    : MemorySegment.ofAddress(a).reinterpret(byteSize, arena, new Release(a, typed, confined));
        } catch (Throwable t) { // a closed arena, or a confined one used from another thread: the JDK's exception
            Release.release(a, typed, false); // as its cleanup would have
            throw t;
        }
        if (SESSION_CLEANUP) {
            // a shared arena closed since the check: the block is released and the JDK's exception thrown, as for its own
            SessionRelease.addTo(arena, new SessionRelease(a, typed, confined));
        }
        if (arena == GLOBAL) {
            Bridge.h.global(site, a, byteSize); // for the leak report: only the program's exit frees it
        }
        return segment;
    }

    /**
     * The pool is full: the route's wait and policy ({@link Hooks#reclaimSegment}), for an arena already checked.
     * Out of line: the fast path never comes here.
     */
    @DontInlineStub
    private static long reclaim(Object s, long byteSize, long byteAlignment) {
        return Bridge.h.reclaimSegment(s, byteSize, byteAlignment);
    }

    /**
     * Throws the JDK's own exception (its type and message) if {@code arena} is closed or confined to another thread,
     * as the JDK's {@code allocate} does before it takes any memory: its session's own check, which the JIT folds away
     * for an arena it sees made in the same compilation, as it does in the JDK's path; on a JDK whose internals differ,
     * a segment of no size at address 0 made the JDK's way, which checks the arena and registers nothing.
     */
    @ForceInlineStub
    private static void checkValid(Arena arena) {
        if (SESSION_CLEANUP) {
            ((SessionStub) (Object) arena.scope()).checkValidState();
        } else {
            MemorySegment.NULL.reinterpret(0, arena, null);
        }
    }

    /**
     * The agent's objects of arena sites by id, filled as they are first used: a site's object never changes, so this
     * copy serves each allocation with one static load and one array load, fewer dependent loads than asking the
     * hooks (each costs ~1.7 ns on this path).
     */
    private static volatile Object[] sites = new Object[64];

    @ForceInlineStub
    private static Object site(int id) {
        Object[] t = sites;
        Object s;
        if (id > 0 && id < t.length && (s = t[id]) != null) {
            return s;
        }
        return siteFirstUse(id);
    }

    private static synchronized Object siteFirstUse(int id) {
        Object s = Bridge.h.site(id);
        if (s != null) {
            Object[] t = sites;
            if (id >= t.length) {
                t = java.util.Arrays.copyOf(t, Math.max(id + 1, t.length * 2));
            }
            t[id] = s; // the agent's site objects are immutable (final fields): safe to read through a race
            sites = t;
        }
        return s;
    }

    /**
     * The pool block, out of line: the JIT's inlining depth (15 levels) counts from the method being compiled, and the
     * allocator's own path is deep enough that, inlined below the program's method and this bridge, its memory
     * accesses became calls. Compiled on its own, the allocator inlines whole; the call costs a few ns and passes
     * only numbers and the agent's site object (not the caller's), so nothing of the caller escapes.
     */
    @DontInlineStub
    private static long block(Object site, long byteSize, long byteAlignment) {
        return Bridge.h.allocateSegment(site, byteSize, byteAlignment);
    }

    /**
     * Zeroes a new segment's block as the JDK zeroes its own ({@code SegmentFactories.initNativeMemory}: 8-byte stores
     * up to the size rounded up to 8, which the pool's blocks, 16-byte granular, always hold). Here, in the caller's
     * compilation and two calls deep, the loop compiles as it does for the JDK's arenas; in the allocator, below the
     * agent's calls, the JIT's inlining depth limit made each of its stores a call (64 KiB: 3× the JDK's time).
     */
    private static void zero(long address, long byteSize) {
        InternalUnsafeStub u = InternalUnsafeStub.getUnsafe();
        long end = (Math.max(byteSize, 1) + 7) & ~7L;
        for (long i = 0; i < end; i += 8) {
            u.putLongUnaligned(null, address + i, 0L);
        }
    }

    /**
     * Whether routed segments' cleanups go straight into their arena's session ({@link SessionRelease}); false on a
     * JDK whose internals differ, where they go through {@code reinterpret(size, arena, cleanup)}.
     */
    private static final boolean SESSION_CLEANUP = sessionCleanup();

    private static boolean sessionCleanup() {
        try {
            return SessionRelease.works();
        } catch (LinkageError e) { // not defined: see BridgeInstaller
            return false;
        }
    }

    /** The class of every arena {@code Arena.ofConfined/ofShared/ofAuto/global} returns (JDK 22 to 25). */
    private static final Class<?> JDK_ARENA = Arena.global().getClass();
    private static final Arena GLOBAL = Arena.global();
    /** The class of a confined arena's scope (JDK 22 to 25: {@code ConfinedSession}); a scope of another class is not. */
    private static final Class<?> CONFINED = confinedScope();

    private static Class<?> confinedScope() {
        try (Arena a = Arena.ofConfined()) {
            return a.scope().getClass();
        }
    }

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
