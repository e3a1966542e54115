package io.jvmem.bench;

import io.jvmem.allocator.MemoryPool;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * Guards the paired agent runs: with {@code -Djvmem.bench.variant=pool} a benchmark refuses to start unless its
 * buffers really come from the agent's pool "main", so a mistyped agent path cannot silently measure the JDK twice.
 */
final class RoutingCheck {
    private RoutingCheck() {
    }

    static String variant() {
        return System.getProperty("jvmem.bench.variant", "jdk");
    }

    /** Throws unless the buffer's memory is where the variant says it should be. */
    static void check(ByteBuffer buffer) {
        check(MemorySegment.ofBuffer(buffer).address());
    }

    /** Throws unless {@code address} (of memory a routed call returned) is where the variant says it should be. */
    static void check(long address) {
        boolean inPool = inPool(address);
        boolean wantPool = variant().equals("pool");
        if (inPool == wantPool) {
            return;
        }
        if (wantPool && agentActive()) {
            throw new IllegalStateException("variant pool: the agent runs, but this memory is not in its pool \"main\": the "
                    + "call site was not rewritten (see the agent's report: classesRewritten, rewriteFailures)");
        }
        throw new IllegalStateException("variant " + variant() + " but the memory is " + (inPool ? "" : "not ")
                + "in the agent's pool: is the agent (-javaagent:...jvmem-agent.jar=<config>) " + (wantPool ? "missing" : "present") + "?");
    }

    private static boolean agentActive() {
        try {
            Class<?> jvmem = Class.forName("io.jvmem.agent.Jvmem", true, ClassLoader.getSystemClassLoader());
            return (boolean) jvmem.getMethod("isActive").invoke(null);
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }

    private static boolean inPool(long address) {
        try {
            Class<?> jvmem = Class.forName("io.jvmem.agent.Jvmem", true, ClassLoader.getSystemClassLoader());
            if (!(boolean) jvmem.getMethod("isActive").invoke(null)) {
                return false;
            }
            MemoryPool pool = (MemoryPool) jvmem.getMethod("pool", String.class).invoke(null, "main");
            return pool.contains(address);
        } catch (ClassNotFoundException e) {
            return false;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot ask the agent for its pool", e);
        }
    }
}
