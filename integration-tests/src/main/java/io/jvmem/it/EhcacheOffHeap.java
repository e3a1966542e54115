package io.jvmem.it;

import org.ehcache.Cache;
import org.ehcache.CacheManager;
import org.ehcache.config.builders.CacheConfigurationBuilder;
import org.ehcache.config.builders.CacheManagerBuilder;
import org.ehcache.config.builders.ResourcePoolsBuilder;
import org.ehcache.config.units.EntryUnit;
import org.ehcache.config.units.MemoryUnit;
import org.ehcache.core.internal.statistics.DefaultStatisticsService;
import org.ehcache.core.statistics.CacheStatistics;
import org.ehcache.core.statistics.TierStatistics;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Ordinary Ehcache 3 use with a heap tier and an off-heap tier, built with the Java builder API (no XML):
 *
 * <ul>
 *   <li>a {@link CacheManager} with one cache {@code Long -> byte[]}: 100 entries on heap, {@link #OFF_HEAP_MB} MiB
 *       off heap. Ehcache's off-heap store (Terracotta offheap-store, shaded into the ehcache jar under
 *       {@code org.ehcache.shadow.org.terracotta.offheapstore}) takes the whole tier up front, in
 *       {@code UpfrontAllocatingPageSource}, from {@code OffHeapBufferSource.allocateBuffer}, which calls
 *       {@code ByteBuffer.allocateDirect};</li>
 *   <li>{@code entries} values of 0 B..12 KiB, every 100th 192 KiB (about 22 MB for 3,000 entries), put, then every one
 *       read back and checked byte by byte: all but the heap tier's 100 live off heap (the tier statistics say how
 *       many);</li>
 *   <li>every 7th removed, every 5th of the rest overwritten with a value of another size, then every key read
 *       again and checked (removed ones absent);</li>
 *   <li>no eviction (the tier is large enough), then the cache manager closed.</li>
 *   <li>{@code jdkDirectBytes}, the JDK's {@code direct} buffer pool after the puts: where the tier is not in it, it
 *       is not in the JDK's direct memory.</li>
 * </ul>
 *
 * <p>Ehcache never frees its off-heap memory explicitly: closing the manager drops the page source, and the direct
 * buffers go back when the garbage collector finds them unreachable. With a {@code pool} argument the program
 * then drops its own references, collects, and polls the agent's {@code io.jvmem:type=Pool,name=<pool>} MBean (plain
 * JMX, no agent class) until the pool's {@code InUse} has fallen by the tier's size, printing it before and after.
 *
 * <p>Arguments (optional): {@code entries} (default 3000), {@code seed} (default 11), {@code pool} (none). Prints
 * {@code EHCACHE OK ...} and exits 0, or prints {@code EHCACHE FAIL ...} and exits 1.
 */
public final class EhcacheOffHeap {
    static final int OFF_HEAP_MB = 64;
    static final int HEAP_ENTRIES = 100;
    static final String CACHE = "values";

    public static void main(String[] args) {
        int entries = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 11L;
        String pool = args.length > 2 ? args[2] : null;
        ProgramExit.withFailure("EHCACHE", () -> run(entries, seed, pool));
    }

    /** Entry i's value in round r: its size and bytes depend only on seed, r and i. */
    static byte[] value(long seed, int round, int i) {
        long h = ArrowVectors.mix(seed + round, i);
        int len = i % 100 == 99 ? 192 << 10 : (int) Long.remainderUnsigned(h, (12 << 10) + 1);
        byte[] b = new byte[len];
        for (int k = 0; k < len; k += 8) {
            long x = ArrowVectors.mix(h, k);
            for (int j = 0; j < 8 && k + j < len; j++) {
                b[k + j] = (byte) (x >>> (8 * j));
            }
        }
        return b;
    }

    static boolean removed(int i) {
        return i % 7 == 3;
    }

    static boolean overwritten(int i) {
        return !removed(i) && i % 5 == 1;
    }

    static String check(Cache<Long, byte[]> cache, long seed, int entries, boolean afterChanges) {
        for (int i = 0; i < entries; i++) {
            byte[] got = cache.get((long) i);
            if (afterChanges && removed(i)) {
                if (got != null) {
                    return "key " + i + " was removed but reads as " + got.length + " bytes";
                }
                continue;
            }
            byte[] want = value(seed, afterChanges && overwritten(i) ? 1 : 0, i);
            if (got == null) {
                return "key " + i + " is missing" + (afterChanges ? " after the removes and overwrites" : "");
            }
            if (!Arrays.equals(got, want)) {
                return "key " + i + ": " + got.length + " bytes differ from the " + want.length + " put"
                        + (afterChanges ? " after the removes and overwrites" : "");
            }
        }
        return null;
    }

    static String run(int entries, long seed, String pool) throws Exception {
        StringBuilder ok = new StringBuilder("EHCACHE OK entries=" + entries);
        DefaultStatisticsService statistics = new DefaultStatisticsService();
        CacheManager manager = CacheManagerBuilder.newCacheManagerBuilder()
                .using(statistics)
                .withCache(CACHE, CacheConfigurationBuilder.newCacheConfigurationBuilder(Long.class, byte[].class,
                        ResourcePoolsBuilder.newResourcePoolsBuilder()
                                .heap(HEAP_ENTRIES, EntryUnit.ENTRIES)
                                .offheap(OFF_HEAP_MB, MemoryUnit.MB)))
                .build(true);
        Cache<Long, byte[]> cache = manager.getCache(CACHE, Long.class, byte[].class);

        // 1. Put everything, read everything back.
        long bytes = 0;
        for (int i = 0; i < entries; i++) {
            byte[] v = value(seed, 0, i);
            cache.put((long) i, v);
            bytes += v.length;
        }
        CacheStatistics stats = statistics.getCacheStatistics(CACHE);
        TierStatistics offHeap = stats.getTierStatistics().get("OffHeap");
        TierStatistics onHeap = stats.getTierStatistics().get("OnHeap");
        if (offHeap == null || onHeap == null) {
            return "tier statistics are " + stats.getTierStatistics().keySet() + ", expected OnHeap and OffHeap";
        }
        ok.append(" bytes=").append(bytes)
                .append(" offHeapMappings=").append(offHeap.getMappings())
                .append(" offHeapOccupied=").append(offHeap.getOccupiedByteSize())
                .append(" offHeapAllocated=").append(offHeap.getAllocatedByteSize())
                .append(" jdkDirectBytes=").append(jdkDirectBytes());
        if (offHeap.getMappings() < entries - HEAP_ENTRIES) {
            return "only " + offHeap.getMappings() + " of " + entries + " entries are in the off-heap tier";
        }
        String bad = check(cache, seed, entries, false);
        if (bad != null) {
            return bad;
        }

        // 2. Remove some, overwrite some (other sizes), read everything again.
        int removes = 0;
        int overwrites = 0;
        for (int i = 0; i < entries; i++) {
            if (removed(i)) {
                cache.remove((long) i);
                removes++;
            } else if (overwritten(i)) {
                cache.put((long) i, value(seed, 1, i));
                overwrites++;
            }
        }
        bad = check(cache, seed, entries, true);
        if (bad != null) {
            return bad;
        }
        if (stats.getCacheEvictions() != 0) {
            return stats.getCacheEvictions() + " entries were evicted: the off-heap tier is too small for the test";
        }
        ok.append(" removed=").append(removes).append(" overwritten=").append(overwrites)
                .append(" checked=").append(2L * entries).append(" evictions=0");

        // 3. Close. Ehcache frees nothing itself: the page source's buffers wait for the garbage collector.
        ObjectName bean = pool == null ? null : new ObjectName("io.jvmem:type=Pool,name=" + pool);
        long before = pool == null ? 0 : poolInUse(bean, 10_000);
        manager.close();
        ok.append(" closed=true");
        if (pool != null) {
            cache = null;
            manager = null;
            statistics = null;
            stats = null;
            offHeap = null;
            onHeap = null;
            long tier = (long) OFF_HEAP_MB << 20;
            long after = before;
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (after > before - tier && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(50);
                after = poolInUse(bean, 0);
            }
            ok.append(" poolInUseBeforeClose=").append(before).append(" poolInUseAfterClose=").append(after);
        }
        System.out.println(ok);
        return null;
    }

    /** Bytes of the JDK's own direct memory in use (its {@code direct} buffer pool; pool buffers are not in it). */
    static long jdkDirectBytes() {
        return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
    }

    /** The agent's pool MBean's {@code InUse}, waiting up to {@code waitMillis} for it to be registered. */
    static long poolInUse(ObjectName bean, long waitMillis) throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        long deadline = System.nanoTime() + waitMillis * 1_000_000L;
        while (!server.isRegistered(bean)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no MBean " + bean + " (is the agent running with that pool?)");
            }
            Thread.sleep(50);
        }
        return ((Number) server.getAttribute(bean, "InUse")).longValue();
    }
}
