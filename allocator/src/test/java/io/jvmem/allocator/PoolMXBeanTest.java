package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.management.InstanceNotFoundException;
import javax.management.JMX;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 2, unit = TimeUnit.MINUTES)
@org.junit.jupiter.api.Tag("unit")
class PoolMXBeanTest {
    private static final MBeanServer SERVER = ManagementFactory.getPlatformMBeanServer();

    @TempDir
    Path dir;

    private static final Set<String> POOL_ATTRIBUTES = Set.of("Name", "Kind", "Path", "Size", "Usable", "InUse", "Peak",
            "Allocations", "Frees", "Fallbacks", "PurgedBytes", "NumaPages", "Open");

    @Test
    void everyAttributeIsReadableWhileThePoolIsInUseAndAfterItCloses() throws Exception {
        ObjectName name = new ObjectName("io.jvmem:type=Pool,name=jmx-volatile");
        ObjectName buffers = new ObjectName("java.nio:type=BufferPool,name=jvmem.jmx-volatile");
        VolatilePool pool = VolatilePool.create("jmx-volatile", Path.of("/dev/shm"), 16L << 20);
        PoolMXBean held;
        try {
            long a = pool.malloc(1000);
            long b = pool.malloc(100_000);
            pool.segment(b).fill((byte) 1);
            pool.free(pool.malloc(64));
            assertTrue(Mbeans.awaitIdle(30_000));
            Map<String, Object> v = readAll(name);
            assertEquals(POOL_ATTRIBUTES, v.keySet());
            assertEquals("jmx-volatile", v.get("Name"));
            assertEquals("volatile", v.get("Kind"));
            assertEquals("/dev/shm", v.get("Path"));
            assertEquals(16L << 20, v.get("Size"));
            assertEquals(pool.stats().usable(), v.get("Usable"));
            assertEquals(pool.usableSize(a) + pool.usableSize(b), v.get("InUse"));
            assertTrue((Long) v.get("Peak") >= (Long) v.get("InUse"));
            assertEquals(3L, v.get("Allocations"));
            assertEquals(1L, v.get("Frees"));
            assertEquals(0L, v.get("Fallbacks"));
            assertEquals(0L, v.get("PurgedBytes"));
            assertEquals(Boolean.TRUE, v.get("Open"));
            TabularData numa = (TabularData) v.get("NumaPages");
            long pages = 0;
            for (Object row : numa.values()) {
                pages += (Long) ((CompositeData) row).get("value");
            }
            assertTrue(pages > 0, "the touched pages appear on some node: " + numa);
            assertEquals("CONSISTENT", SERVER.invoke(name, "check", new Object[0], new String[0]));
            String json = (String) SERVER.invoke(name, "statsPrint", new Object[] {"J"}, new String[] {String.class.getName()});
            assertEquals(3L, ((Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) Json.parse(json)).get("jvmem")).get("stats")).get("mallocs"));

            BufferPoolMXBean bp = JMX.newMXBeanProxy(SERVER, buffers, BufferPoolMXBean.class);
            assertEquals("jvmem.jmx-volatile", bp.getName());
            assertEquals(2L, bp.getCount());
            assertEquals(pool.usableSize(a) + pool.usableSize(b), bp.getTotalCapacity());
            assertEquals(pool.stats().active(), bp.getMemoryUsed());
            held = pool.mxBean();
        } finally {
            pool.close();
        }
        assertTrue(Mbeans.awaitIdle(30_000));
        assertFalse(SERVER.isRegistered(name));
        assertFalse(SERVER.isRegistered(buffers));
        assertThrows(InstanceNotFoundException.class, () -> SERVER.getAttribute(name, "InUse"));
        // a bean someone still holds gives the last values instead of failing
        assertFalse(held.isOpen());
        assertEquals(3L, held.getAllocations());
        assertEquals(1L, held.getFrees());
        assertTrue(held.getInUse() > 100_000);
        assertEquals(16L << 20, held.getSize());
        assertTrue(held.check().startsWith("NOT_CHECKED"));
        for (String attribute : POOL_ATTRIBUTES) {
            // every getter answers after close
            PoolMXBean.class.getMethod((attribute.equals("Open") ? "is" : "get") + attribute).invoke(held);
        }
    }

    @Test
    void aCtoPoolIsRegisteredWithItsFileAndUnregisteredAtClose() throws Exception {
        Path file = dir.resolve("jmx.pool");
        ObjectName name = new ObjectName("io.jvmem:type=Pool,name=jmx.pool");
        try (CtoPool pool = CtoPool.create(file, "jmx", 16L << 20)) {
            pool.setRoot(pool.calloc(1, 4096));
            assertTrue(Mbeans.awaitIdle(30_000));
            PoolMXBean p = JMX.newMXBeanProxy(SERVER, name, PoolMXBean.class);
            assertEquals("cto", p.getKind());
            assertEquals(file.toString(), p.getPath());
            assertEquals(4096L, p.getInUse());
        }
        assertTrue(Mbeans.awaitIdle(30_000));
        assertFalse(SERVER.isRegistered(name));
        try (CtoPool pool = CtoPool.open(file, "jmx")) {
            assertTrue(Mbeans.awaitIdle(30_000));
            assertEquals(4096L, SERVER.getAttribute(name, "InUse"));
        }
    }

    @Test
    void aNameWithCommasAndQuotesIsQuoted() throws Exception {
        try (VolatilePool pool = VolatilePool.create("a,b=\"c\"", Path.of("/dev/shm"), 16L << 20)) {
            assertTrue(Mbeans.awaitIdle(30_000));
            ObjectName name = new ObjectName("io.jvmem:type=Pool,name=" + ObjectName.quote("a,b=\"c\""));
            assertEquals("a,b=\"c\"", SERVER.getAttribute(name, "Name"));
        }
    }

    private static Map<String, Object> readAll(ObjectName name) throws Exception {
        Map<String, Object> out = new java.util.HashMap<>();
        for (MBeanAttributeInfo info : SERVER.getMBeanInfo(name).getAttributes()) {
            out.put(info.getName(), SERVER.getAttribute(name, info.getName()));
        }
        return out;
    }
}
