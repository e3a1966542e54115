package io.jvmem.agent.bridge;

/**
 * Stands for {@code jdk.internal.foreign.MemorySessionImpl.ResourceList.ResourceCleanup} when the bridge is compiled
 * (renamed like {@link DirectBufferStub}): the JDK's own cleanup of a native segment, one list node in its arena's
 * session (JDK 22 to 25). Never loaded itself.
 */
abstract class ResourceCleanupStub {
    public abstract void cleanup();
}
