package io.jvmem.bench.routed;

import java.nio.ByteBuffer;

/**
 * The only allocation site the benchmarks' agent config routes ({@code route.bench.include=io.jvmem.bench.routed}):
 * under the agent this call is rewritten to take pool memory; without it, it is the JDK's allocateDirect. Keeping it
 * in its own package means nothing else in the benchmark JVM (JMH, Netty) is rewritten.
 */
public final class Routed {
    private Routed() {
    }

    public static ByteBuffer allocateDirect(int capacity) {
        return ByteBuffer.allocateDirect(capacity);
    }
}
