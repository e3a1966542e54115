package io.jvmem.agent.bridge;

import java.nio.ByteBuffer;
import sun.misc.Unsafe;

/**
 * What {@code Method.invoke} calls instead of an intercepted member (renamed {@code java.nio.JvmemInvocation}): one
 * instance per reflective call holds the receiver the program passed and the call site, and each method has the
 * intercepted member's parameters, so {@code Method.invoke} itself still unboxes, checks and wraps exceptions in
 * {@code InvocationTargetException} exactly as for the original member.
 */
public final class Invocation {
    private final Object receiver;
    private final int site;

    Invocation(Object receiver, int site) {
        this.receiver = receiver;
        this.site = site;
    }

    /** A holder for one reflective call; the receiver is the program's (null for static members). */
    public static Invocation of(Object receiver, int site) {
        return new Invocation(receiver, site);
    }

    public ByteBuffer allocateDirect(int capacity) {
        return Bridge.allocateDirect(capacity, site);
    }

    public long allocateMemory(long bytes) {
        return Bridge.allocateMemory((Unsafe) receiver, bytes, site);
    }

    public long reallocateMemory(long address, long bytes) {
        return Bridge.reallocateMemory((Unsafe) receiver, address, bytes, site);
    }

    public void freeMemory(long address) {
        Bridge.freeMemory((Unsafe) receiver, address);
    }

    public long internalAllocateMemory(long bytes) {
        return Bridge.allocateMemory((InternalUnsafeStub) receiver, bytes, site);
    }

    public long internalReallocateMemory(long address, long bytes) {
        return Bridge.reallocateMemory((InternalUnsafeStub) receiver, address, bytes, site);
    }

    public void internalFreeMemory(long address) {
        Bridge.freeMemory((InternalUnsafeStub) receiver, address);
    }
}
