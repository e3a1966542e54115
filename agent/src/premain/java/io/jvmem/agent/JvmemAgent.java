package io.jvmem.agent;

import java.lang.instrument.Instrumentation;

/**
 * Entry point of {@code -javaagent:jvmem-agent.jar=<config>} (premain) and of late attach (agentmain). Compiled for
 * Java 8 (its own source directory and compiler execution) while the rest of the agent needs JDK 22: on an older JDK
 * it prints one line and stops the JVM with exit code 1, as for a config error, instead of failing to link the agent's
 * classes (the JVM would abort with a fatal error banner and exit code 134). At late attach it prints the line and
 * leaves the running JVM alone. The real start, {@code AgentStart} (compiled for 22), is called only once the JDK is
 * known to be new enough, so an older JDK never loads it.
 */
public final class JvmemAgent {
    /** The first JDK with the final FFM API, which the pools use. */
    static final int MIN_FEATURE = 22;

    private JvmemAgent() {
    }

    public static void premain(String args, Instrumentation inst) {
        start(args, inst, false);
    }

    public static void agentmain(String args, Instrumentation inst) {
        start(args, inst, true);
    }

    private static void start(String args, Instrumentation inst, boolean late) {
        if (feature(System.getProperty("java.specification.version")) < MIN_FEATURE) {
            System.err.println("jvmem: the agent needs JDK " + MIN_FEATURE + " or later; this is " + System.getProperty("java.version"));
            System.err.flush();
            if (!late) {
                Runtime.getRuntime().halt(1);
            }
            return; // late attach: the running program goes on without the agent
        }
        try {
            // A direct call (compiled against the Java 22 class): resolved only here, after the version check, so an
            // older JDK never loads AgentStart; no reflection, whose first use costs ~35 ms of generated classes.
            AgentStart.start(args, inst, late);
        } catch (LinkageError e) {
            System.err.println("jvmem: cannot start: " + e);
            System.err.flush();
            if (!late) {
                Runtime.getRuntime().halt(1);
            }
            throw new IllegalStateException("jvmem: cannot start: " + e);
        }
    }

    static int feature(String specificationVersion) {
        if (specificationVersion == null) {
            return 0;
        }
        String s = specificationVersion.startsWith("1.") ? specificationVersion.substring(2) : specificationVersion;
        int end = 0;
        while (end < s.length() && Character.isDigit(s.charAt(end))) {
            end++;
        }
        try {
            return Integer.parseInt(s.substring(0, end));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
