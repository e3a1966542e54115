package io.jvmem.agent.bridge;

/**
 * The cleaner action of a pool buffer (renamed {@code java.nio.JvmemRelease} at run time). It holds the address only,
 * never the buffer, so the buffer can become unreachable; the JDK's cleaner runs it at most once, on the Reference
 * Handler thread or in {@code invokeCleaner}. It must never throw: the JDK's internal cleaner exits the JVM if it does.
 * The same object is the cleanup of a routed arena segment ({@link RoutedArena}), run once when its arena closes.
 */
final class Release implements Runnable, java.util.function.Consumer<java.lang.foreign.MemorySegment> {
    private final long address;
    /**
     * For a segment whose block the pool counted under its site's tag without recording it (malloc(9)'s typed free:
     * see {@link Hooks#releaseSegment}): the agent's site object; null for every other block.
     */
    private final Object site;
    /** The segment's arena is confined: its cleanup runs on the thread that closes it, never on the JDK's cleaner. */
    private final boolean confined;

    Release(long address) {
        this(address, null, false);
    }

    Release(long address, Object site, boolean confined) {
        this.address = address;
        this.site = site;
        this.confined = confined;
    }

    @Override
    public void accept(java.lang.foreign.MemorySegment ignored) {
        release(address, site, confined);
    }

    @Override
    public void run() {
        release(address, site, confined);
    }

    /** Out of line, so that the JDK's cleanup loop stays small enough to inline into the arena's close. */
    @DontInlineStub
    static void release(long address, Object site, boolean confined) {
        try {
            if (site != null) {
                Bridge.h.releaseSegment(address, site, confined);
            } else {
                Bridge.h.release(address);
            }
        } catch (Throwable ignored) {
            // the hooks record failures themselves
        }
    }
}
