package io.jvmem.agent.warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;

/**
 * Never loaded: its class file is what the agent rewrites, and throws away, while it waits for its pools at start-up
 * ({@code io.jvmem.agent.StartupWarmUp}), so that ASM and the rewriter are loaded, linked and run once before the
 * program's first class needs them. It uses the common shapes: a direct buffer, an arena allocation, a looked-up handle.
 */
final class Sample {
    private Sample() {
    }

    static long use() throws Throwable {
        ByteBuffer b = ByteBuffer.allocateDirect(64);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(64);
            MethodHandle h = MethodHandles.lookup().findStatic(ByteBuffer.class, "allocateDirect",
                    MethodType.methodType(ByteBuffer.class, int.class));
            return b.capacity() + s.byteSize() + ((ByteBuffer) h.invokeExact(8)).capacity();
        }
    }
}
