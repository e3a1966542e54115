package io.jvmem.agent;

/**
 * The class files the agent defines at run time, inside a class: the build ({@link BridgeFiles}) replaces this
 * compiled stub with a class whose {@link #table()} returns them. The boot loader reads a class from the agent jar
 * natively, where opening the jar with {@code java.util.zip} to read them as entries cost about 15 ms of CPU time at
 * start-up, most of it indexing the jar's 260 entries in the interpreter. A tree compiled without that step (an IDE's)
 * keeps this stub, and the agent reads the jar instead ({@link AgentJar}).
 */
final class DefinedClassFiles {
    private DefinedClassFiles() {
    }

    /**
     * The class files as {@code [key, chunk count, chunk...]...}: a key is a jar entry name without {@code .class},
     * a chunk a part of the file's bytes as a Latin-1 string (a string constant holds at most 65535 bytes of modified
     * UTF-8). Null in the stub.
     */
    static String[] table() {
        return null;
    }
}
