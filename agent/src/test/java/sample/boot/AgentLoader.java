package sample.boot;

import java.nio.ByteBuffer;

/** Prints which class loader holds the agent's classes, then allocates one routed buffer. */
public final class AgentLoader {
    public static void main(String[] args) throws Exception {
        ClassLoader l = Class.forName("io.jvmem.agent.AgentRuntime", false, AgentLoader.class.getClassLoader()).getClassLoader();
        System.out.println("agent-loader=" + (l == null ? "boot" : l.getName()));
        System.out.println("capacity=" + ByteBuffer.allocateDirect(4096).capacity());
    }
}
