package sample.observe;

import java.lang.management.ManagementFactory;
import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;

/**
 * Runs {@code args[0]} ms (past the agent's first look for the platform MBean server), prints whether any MBean server
 * exists then, makes the platform server as a JMX client would, and prints whether jvmem's pool bean appears in it
 * within 10 s.
 */
public final class LateServer {
    public static void main(String[] args) throws Exception {
        java.nio.ByteBuffer.allocateDirect(4096); // a routed allocation: the pool is in use
        Thread.sleep(Long.parseLong(args[0]));
        System.out.println("servers before the program made one: " + MBeanServerFactory.findMBeanServer(null).size());
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName pool = new ObjectName("io.jvmem:type=Pool,name=main");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!server.isRegistered(pool) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        System.out.println("pool bean registered: " + server.isRegistered(pool));
    }
}
