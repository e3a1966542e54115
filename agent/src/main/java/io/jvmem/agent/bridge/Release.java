package io.jvmem.agent.bridge;

/**
 * The cleaner action of a pool buffer (renamed {@code java.nio.JvmemRelease} at run time). It holds the address only,
 * never the buffer, so the buffer can become unreachable; the JDK's cleaner runs it at most once, on the Reference
 * Handler thread or in {@code invokeCleaner}. It must never throw: the JDK's internal cleaner exits the JVM if it does.
 */
final class Release implements Runnable {
    private final long address;

    Release(long address) {
        this.address = address;
    }

    @Override
    public void run() {
        try {
            Bridge.h.release(address);
        } catch (Throwable ignored) {
            // the hooks record failures themselves
        }
    }
}
