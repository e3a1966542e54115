package io.jvmem.cli;

import com.sun.tools.attach.VirtualMachine;
import io.jvmem.allocator.JsonWriter;
import java.util.Set;
import java.util.TreeSet;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * A running JVM's pools through the local JMX attach: the JDK's attach API starts the target's local management
 * agent (as jconsole does) and jvmem's {@code io.jvmem:type=Pool} beans answer {@code statsPrint}.
 */
final class RemotePools {
    /**
     * jvmem registers its beans within about a second of the platform MBean server's creation (which starting the local
     * management agent does) and at least a second after a pool is made: wait three for them, then say there are none.
     */
    private static final long WAIT_MILLIS = 3_000;

    private RemotePools() {
    }

    static String stats(long pid, String omit, boolean json) throws Exception {
        String address;
        VirtualMachine vm;
        try {
            vm = VirtualMachine.attach(Long.toString(pid));
        } catch (Exception e) {
            throw new Inspect.Refused(JvmemCli.CANNOT, "cannot attach to process " + pid + ": " + e.getMessage());
        }
        try {
            address = vm.startLocalManagementAgent();
        } finally {
            vm.detach();
        }
        try (JMXConnector c = JMXConnectorFactory.connect(new JMXServiceURL(address))) {
            MBeanServerConnection server = c.getMBeanServerConnection();
            ObjectName pattern = new ObjectName("io.jvmem:type=Pool,*");
            Set<ObjectName> names = new TreeSet<>(server.queryNames(pattern, null));
            long end = System.nanoTime() + WAIT_MILLIS * 1_000_000;
            while (names.isEmpty() && System.nanoTime() < end) {
                Thread.sleep(100);
                names = new TreeSet<>(server.queryNames(pattern, null));
            }
            if (names.isEmpty()) {
                throw new Inspect.Refused(JvmemCli.NO, "process " + pid + " has no jvmem pools");
            }
            String opts = omit + (json ? "J" : "");
            if (!json) {
                StringBuilder b = new StringBuilder();
                for (ObjectName n : names) { // the pool's name even when -o g leaves out its configuration
                    b.append("== pool ").append(n.getKeyProperty("name")).append(" (process ").append(pid).append(")\n");
                    b.append(invoke(server, n, opts));
                }
                return b.toString();
            }
            JsonWriter w = JsonWriter.compact().beginObject().field("pid", pid).name("pools").beginArray();
            for (ObjectName n : names) { // {"name": pool, "jvmem": {...}}: the name even when -o g leaves out its configuration
                Object stats = io.jvmem.allocator.Json.parse(invoke(server, n, opts));
                w.beginObject().field("name", n.getKeyProperty("name"));
                if (stats instanceof java.util.Map<?, ?> m) {
                    for (java.util.Map.Entry<?, ?> e : m.entrySet()) {
                        w.name(String.valueOf(e.getKey()));
                        StatsCommand.copy(w, e.getValue());
                    }
                }
                w.endObject();
            }
            return w.endArray().endObject() + "\n";
        }
    }

    private static String invoke(MBeanServerConnection server, ObjectName n, String opts) throws Exception {
        return (String) server.invoke(n, "statsPrint", new Object[] {opts}, new String[] {String.class.getName()});
    }
}
