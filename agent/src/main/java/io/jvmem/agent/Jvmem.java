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

    /**
     * The system property the agent sets once it runs, to its config file's name: how {@code jvmem attach} tells a JVM
     * that runs the agent already (the agent starts once per JVM) from one that does not, before it attaches.
     */
    public static final String RUNNING_PROPERTY = "io.jvmem.agent.config";

    /**
     * Reads a config file as the agent would at start-up, without starting anything: null if the agent would accept
     * it, else the one line the agent would print ({@code <file>:<line>: <key>: <reason>}, or naming the file). What
     * only the pools' creation can find (room on the file system, a NUMA node's memory) is not checked. Used by
     * {@code jvmem attach} before it attaches, so a config error is reported where the user typed the command.
     */
    public static String checkConfig(String path) {
        return checkConfig(path, null);
    }

    /**
     * {@link #checkConfig(String)} for a process whose working directory is {@code workingDir} (null: this one's): a
     * relative report path is checked against it, as the agent in that process will resolve it.
     */
    public static String checkConfig(String path, String workingDir) {
        try {
            ConfigParser.parse(java.nio.file.Path.of(path), workingDir == null ? null : java.nio.file.Path.of(workingDir));
            return null;
        } catch (ConfigException e) {
            return e.getMessage();
        }
    }

    /**
     * The warnings the agent would print at start-up for a config file it accepts, each one line naming
     * {@code <file>:<line>: <key>}; empty if there are none or the file has an error ({@link #checkConfig} says which).
     * Used by {@code jvmem attach}, so the user sees them where the command was typed, not only on the target's stderr.
     */
    public static java.util.List<String> configWarnings(String path) {
        try {
            return ConfigParser.parse(java.nio.file.Path.of(path)).warnings();
        } catch (ConfigException e) {
            return java.util.List.of();
        }
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
