package io.jvmem.agent;

import java.lang.instrument.Instrumentation;

/**
 * The agent's start once {@link JvmemAgent} found a JDK new enough (it calls {@link #start} reflectively). A
 * configuration error prints one line naming file, line and key, and the JVM does not start (exit code 1, no stack
 * dump); at late attach the line is printed and the attaching tool gets the exception.
 */
final class AgentStart {
    private AgentStart() {
    }

    /** Called by {@link JvmemAgent} with the agent's argument and whether this is a late attach (agentmain). */
    static void start(String args, Instrumentation inst, boolean late) {
        try {
            AgentRuntime.start(args, inst, late);
        } catch (ConfigException e) {
            refuse(e.getMessage(), late);
        } catch (Throwable t) {
            refuse("cannot start: " + why(t), late);
        }
    }

    /**
     * What went wrong, as one line: the innermost cause (a class initializer's failure says nothing by itself), with
     * the flag to add when the JVM refused the pools' native access ({@code --illegal-native-access=deny}).
     */
    static String why(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String line = root == t ? t.toString() : t.getClass().getName() + " caused by " + root;
        if (root instanceof IllegalCallerException) {
            line += " (the pools need native access: add --enable-native-access=ALL-UNNAMED to the java command)";
        }
        return line;
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
