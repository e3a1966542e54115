package io.jvmem.agent.bridge;

/**
 * Stands for {@code jdk.internal.misc.Unsafe} when the bridge is compiled (renamed like {@link DirectBufferStub}):
 * libraries that were given {@code --add-exports java.base/jdk.internal.misc} (Agrona 2.x's generated
 * {@code UnsafeApi}, for one) allocate and free through it, and the bridge, living in java.base, may call it without
 * any export. Never loaded itself.
 */
final class InternalUnsafeStub {
    static InternalUnsafeStub getUnsafe() {
        throw new AssertionError("never called");
    }

    long allocateMemory(long bytes) {
        throw new AssertionError("never called");
    }

    long reallocateMemory(long address, long bytes) {
        throw new AssertionError("never called");
    }

    void freeMemory(long address) {
        throw new AssertionError("never called");
    }

    void copyMemory(long from, long to, long bytes) {
        throw new AssertionError("never called");
    }

    void putLongUnaligned(Object o, long offset, long x) {
        throw new AssertionError("never called");
    }
}
