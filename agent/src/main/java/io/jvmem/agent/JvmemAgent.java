package io.jvmem.agent;

import java.lang.instrument.Instrumentation;

/**
 * Entry point of {@code -javaagent:jvmem-agent.jar=<config>} (premain) and of late attach (agentmain). Kept tiny and
 * free of references to the bridge (which does not exist when this class links). A configuration error prints one
 * line naming file, line and key, and the JVM does not start (exit code 1, no stack dump).
 */
public final class JvmemAgent {
    private JvmemAgent() {
    }

    public static void premain(String args, Instrumentation inst) {
        start(args, inst, false);
    }

    public static void agentmain(String args, Instrumentation inst) {
        start(args, inst, true);
    }

    private static void start(String args, Instrumentation inst, boolean late) {
        try {
            AgentRuntime.start(args, inst, late);
        } catch (ConfigException e) {
            refuse(e.getMessage(), late);
        } catch (Throwable t) {
            refuse("cannot start: " + t, late);
        }
    }

    private static void refuse(String message, boolean late) {
        System.err.println("jvmem: " + message);
        System.err.flush();
        if (!late) {
            Runtime.getRuntime().halt(1); // premain: the JVM must not start half-configured
        }
        throw new IllegalStateException("jvmem: " + message); // late attach: the attaching tool sees why
    }
}
