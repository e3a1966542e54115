package sample.observe;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Allocates {@code args[0]} direct buffers of 64 KiB through a routed site, keeps them, waits for jvmem's MXBeans and
 * prints every attribute of {@code io.jvmem:type=Pool,name=main}, {@code io.jvmem:type=Route,name=r} and
 * {@code java.nio:type=BufferPool,name=jvmem.main}, one {@code Bean.Attribute=value} per line.
 */
public final class ReadBeans {
    static final List<ByteBuffer> KEPT = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        for (int i = 0; i < Integer.parseInt(args[0]); i++) {
            KEPT.add(ByteBuffer.allocateDirect(65536));
        }
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName[] names = {new ObjectName("io.jvmem:type=Pool,name=main"), new ObjectName("io.jvmem:type=Route,name=r"),
                new ObjectName("java.nio:type=BufferPool,name=jvmem.main")};
        long deadline = System.nanoTime() + 20_000_000_000L;
        for (ObjectName n : names) {
            while (!server.isRegistered(n) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
        }
        for (ObjectName n : names) {
            String bean = n.getKeyProperty("type");
            for (MBeanAttributeInfo a : server.getMBeanInfo(n).getAttributes()) {
                Object v = server.getAttribute(n, a.getName());
                System.out.println(bean + "." + a.getName() + "=" + (v instanceof String[] s ? String.join(",", s) : v));
            }
        }
    }
}
