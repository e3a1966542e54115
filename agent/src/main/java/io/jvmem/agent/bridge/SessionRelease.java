package io.jvmem.agent.bridge;

import java.lang.foreign.Arena;

/**
 * The cleanup of a routed arena segment registered the way the JDK registers its own native segments' (renamed
 * {@code java.nio.JvmemSessionRelease}): a node of the arena session's resource list, so closing the arena calls
 * {@link #cleanup} directly. {@code MemorySegment.reinterpret(size, arena, cleanup)} wraps a cleanup in two more
 * objects and makes a segment for it at close; this is one object and one call, so the JIT inlines and scalar-replaces
 * a confined arena's whole allocate-and-close as it does the JDK's. Defined only if this JDK has the internal classes
 * it extends; otherwise {@link RoutedArena} uses {@link Release} with {@code reinterpret}.
 */
final class SessionRelease extends ResourceCleanupStub {
    private final long address;
    private final Object site;
    private final boolean confined;

    SessionRelease(long address, Object site, boolean confined) {
        this.address = address;
        this.site = site;
        this.confined = confined;
    }

    /** Run once, when the arena closes (or, for {@code ofAuto}, is collected); never throws. */
    @Override
    public void cleanup() {
        if (address != 0) { // 0: the probe below
            Release.release(address, site, confined);
        }
    }

    /**
     * Registers {@code release} with {@code arena}'s session. If the arena is closed, or confined to another thread,
     * the block is released at once and the JDK's exception thrown, as for the JDK's own allocation.
     */
    @ForceInlineStub
    static void addTo(Arena arena, SessionRelease release) {
        ((SessionStub) (Object) arena.scope()).addOrCleanupIfFail(release);
    }

    /**
     * Whether this JDK takes a cleanup this way, and checks a session as {@link RoutedArena} asks it to (JDK 22 to 25
     * do): tried once, on a confined arena of its own.
     */
    static boolean works() {
        try (Arena a = Arena.ofConfined()) {
            ((SessionStub) (Object) a.scope()).checkValidState();
            addTo(a, new SessionRelease(0, null, true));
            return true;
        } catch (LinkageError | ClassCastException e) {
            return false;
        }
    }
}
