package io.jvmem.agent;

import io.jvmem.allocator.CtoPool;
import io.jvmem.allocator.MemoryPool;

/**
 * The application's way to the pools the agent declared, by name: for instance a close-to-open pool whose root the
 * program uses to find its data again after a restart. Available when the program runs under the agent.
 */
public final class Jvmem {
    private Jvmem() {
    }

    /** Whether the jvmem agent runs in this JVM. */
    public static boolean isActive() {
        return AgentRuntime.current() != null;
    }

    /** The pool declared as {@code pool.<name>} in the agent's config. */
    public static MemoryPool pool(String name) {
        AgentRuntime rt = AgentRuntime.current();
        if (rt == null) {
            throw new IllegalStateException("the jvmem agent is not running in this JVM (-javaagent:jvmem-agent.jar=<config>)");
        }
        MemoryPool p = rt.pools().get(name);
        if (p == null) {
            throw new IllegalArgumentException("no pool named \"" + name + "\" in " + rt.config().source()
                    + " (pools: " + String.join(", ", rt.pools().keySet()) + ")");
        }
        return p;
    }

    /** The close-to-open pool declared as {@code pool.<name>} with {@code kind=cto}. */
    public static CtoPool ctoPool(String name) {
        MemoryPool p = pool(name);
        if (!(p instanceof CtoPool c)) {
            throw new IllegalArgumentException("pool \"" + name + "\" is not a close-to-open pool (kind=cto)");
        }
        return c;
    }
}
