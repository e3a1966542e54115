package io.jvmem.bench.routed;

import java.lang.foreign.Arena;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;

/**
 * The only allocation sites the benchmarks' agent config routes ({@code route.bench.include=io.jvmem.bench.routed}):
 * under the agent these calls are rewritten to take pool memory (or, for lookups and {@code Method.invoke}, to go
 * through the agent's run-time checks); without it, they are the JDK's. Keeping them in their own package means
 * nothing else in the benchmark JVM (JMH, Netty) has an allocation routed.
 */
public final class Routed {
    private Routed() {
    }

    public static ByteBuffer allocateDirect(int capacity) {
        return ByteBuffer.allocateDirect(capacity);
    }

    /** A confined arena, one segment of {@code size} bytes, closed: returns the segment's (now freed) address. */
    public static long confinedArena(long size) {
        try (Arena arena = Arena.ofConfined()) {
            return arena.allocate(size).address();
        }
    }

    /** As {@link #confinedArena} with a shared arena (whose close is a handshake with every thread). */
    public static long sharedArena(long size) {
        try (Arena arena = Arena.ofShared()) {
            return arena.allocate(size).address();
        }
    }

    public static long allocateMemory(sun.misc.Unsafe unsafe, long bytes) {
        return unsafe.allocateMemory(bytes);
    }

    /** {@code Unsafe.freeMemory} as a handle looked up at run time: the agent returns a pool-aware one. */
    public static MethodHandle freeMemoryHandle() throws ReflectiveOperationException {
        return MethodHandles.lookup().findVirtual(sun.misc.Unsafe.class, "freeMemory",
                MethodType.methodType(void.class, long.class));
    }

    /** {@code m.invoke(receiver, args)} from a class the agent rewrites. */
    public static Object invoke(Method m, Object receiver, Object... args)
            throws IllegalAccessException, InvocationTargetException {
        return m.invoke(receiver, args);
    }
}
