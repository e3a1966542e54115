package io.jvmem.agent.bridge;

/**
 * The cleaner action of a pool buffer (renamed {@code java.nio.JvmemRelease} at run time). It holds the address only,
 * never the buffer, so the buffer can become unreachable; the JDK's cleaner runs it at most once, on the Reference
 * Handler thread or in {@code invokeCleaner}. It must never throw: the JDK's internal cleaner exits the JVM if it does.
 * The same object is the cleanup of a routed arena segment ({@link RoutedArena}), run once when its arena closes.
 */
final class Release implements Runnable, java.util.function.Consumer<java.lang.foreign.MemorySegment> {
    private final long address;

    Release(long address) {
        this.address = address;
    }

    @Override
    public void accept(java.lang.foreign.MemorySegment ignored) {
        release(address);
    }

    @Override
    public void run() {
        release(address);
    }

    /** Out of line, so that the JDK's cleanup loop stays small enough to inline into the arena's close. */
    @DontInlineStub
    private static void release(long address) {
        try {
            Bridge.h.release(address);
        } catch (Throwable ignored) {
            // the hooks record failures themselves
        }
    }
}
