package sample.late;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * Attaches the agent to itself with a config whose pool cannot be opened, then again with one that works: prints what
 * each attach did and whether a buffer allocated after the second comes from its pool.
 */
public final class RetryMain {
    public static void main(String[] args) throws Exception {
        System.out.println("first=" + attach(args[0], args[1]));
        System.out.println("second=" + attach(args[0], args[2]));
        ByteBuffer after = Alloc.allocate(4096);
        var pool = io.jvmem.agent.Jvmem.pool("late");
        System.out.println("after-in-pool=" + (pool != null && pool.contains(MemorySegment.ofBuffer(after).address())));
    }

    private static String attach(String jar, String config) throws Exception {
        try {
            SelfAttach.load(jar, config);
            return "loaded";
        } catch (com.sun.tools.attach.AgentInitializationException e) {
            return "refused";
        }
    }
}
