package io.jvmem.agent.bridge;

/**
 * Stands for {@code jdk.internal.foreign.MemorySessionImpl} when the bridge is compiled (renamed like
 * {@link DirectBufferStub}): the session behind every JDK arena's {@code scope()} (JDK 22 to 25). Never loaded itself.
 */
abstract class SessionStub {
    /** Adds {@code cleanup} to the session's list; if the session is closed or not this thread's, runs it and rethrows. */
    public void addOrCleanupIfFail(ResourceCleanupStub cleanup) {
        throw new AssertionError("never called");
    }

    /** Throws the JDK's exception if the session is closed ({@code IllegalStateException}) or not this thread's. */
    public void checkValidState() {
        throw new AssertionError("never called");
    }
}
