package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The per-class mallocs and frees of {@link PoolStats#sizeClasses()}: a pop or push of a thread's stack is counted in
 * the stack's own word, the rest by the slow paths, and the two are derived back into mallocs and frees
 * ({@link ThreadCache#addClassCounts}). Checked against an oracle that counts every call itself.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
@org.junit.jupiter.api.Tag("unit")
class ClassCountsTest {
    /** Small classes, a page-run class and a huge request: stacks that fill and flush, and blocks no stack takes. */
    private static final long[] SIZES = {16, 64, 96, 1024, 3000, 40_000, (4L << 20) + 4096};

    @Test
    void perClassMallocsAndFreesMatchAnOracleOverARandomMixThatFillsAndFlushesTheStacks() {
        try (VolatilePool pool = TestPools.create(256L << 20)) {
            Map<Integer, long[]> oracle = new HashMap<>(); // class slot -> {mallocs, frees}
            List<long[]> live = new ArrayList<>(); // {address, slot}
            Random r = new Random(42);
            for (int i = 0; i < 40_000; i++) {
                if (live.isEmpty() || live.size() < 300 && r.nextInt(100) < 55) {
                    long size = SIZES[r.nextInt(SIZES.length)];
                    long a = pool.malloc(size);
                    assertTrue(a != 0);
                    int slot = slot(size);
                    oracle.computeIfAbsent(slot, k -> new long[2])[0]++;
                    live.add(new long[] {a, slot});
                } else {
                    long[] b = live.remove(r.nextInt(live.size()));
                    pool.free(b[0]);
                    oracle.get((int) b[1])[1]++;
                }
            }
            assertMatches(oracle, pool.stats());
            for (long[] b : live) {
                pool.free(b[0]);
                oracle.get((int) b[1])[1]++;
            }
            assertMatches(oracle, pool.stats());
            assertEquals(0, pool.stats().allocated());
        }
    }

    @Test
    void aDeadThreadsMallocsAndFreesStayCountedAfterItsCacheIsDrained() throws Exception {
        try (VolatilePool pool = TestPools.create(64L << 20)) {
            long[] kept = new long[400];
            Thread t = new Thread(() -> {
                long[] all = new long[1000];
                for (int i = 0; i < all.length; i++) {
                    all[i] = pool.malloc(64);
                }
                for (int i = 0; i < 600; i++) {
                    pool.free(all[i]);
                }
                System.arraycopy(all, 600, kept, 0, kept.length);
            });
            t.start();
            t.join();
            pool.heap.caches.drainDeadThreads();
            PoolStats.SizeClassStats c = classOf(pool.stats(), 64);
            assertEquals(1000, c.mallocs());
            assertEquals(600, c.frees());
            assertEquals(400, c.live());
            for (long a : kept) {
                pool.free(a);
            }
            c = classOf(pool.stats(), 64);
            assertEquals(1000, c.mallocs());
            assertEquals(1000, c.frees());
        }
    }

    @Test
    void statisticsReadWhileTheOwnerFillsAndFlushesNeverGoBackNorCountMoreFreesThanMallocs() throws Exception {
        try (VolatilePool pool = TestPools.create(64L << 20)) {
            AtomicBoolean stop = new AtomicBoolean();
            long[] done = new long[1];
            Thread owner = new Thread(() -> {
                long[] blocks = new long[300]; // more than the stack holds: every round fills and flushes
                long n = 0;
                while (!stop.get()) {
                    for (int i = 0; i < blocks.length; i++) {
                        blocks[i] = pool.malloc(64);
                    }
                    for (long b : blocks) {
                        pool.free(b);
                    }
                    n += blocks.length;
                }
                done[0] = n;
            });
            owner.start();
            AtomicReference<String> wrong = new AtomicReference<>();
            long lastMallocs = 0;
            long lastFrees = 0;
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
            while (System.nanoTime() < deadline && wrong.get() == null) {
                PoolStats.SizeClassStats c = classOf(pool.stats(), 64);
                long m = c == null ? 0 : c.mallocs();
                long f = c == null ? 0 : c.frees();
                if (f > m || m < lastMallocs || f < lastFrees) {
                    wrong.set("mallocs " + m + " frees " + f + " after mallocs " + lastMallocs + " frees " + lastFrees);
                }
                lastMallocs = m;
                lastFrees = f;
            }
            stop.set(true);
            owner.join();
            assertEquals(null, wrong.get());
            PoolStats.SizeClassStats c = classOf(pool.stats(), 64);
            assertEquals(done[0], c.mallocs());
            assertEquals(done[0], c.frees());
        }
    }

    @Test
    void onOneThreadEveryTagsAndTheTotalsPeakAndInUseMatchAnOracleAcrossHomeMovesAndPublications() {
        AllocationTag[] tags = {AllocationTag.define("counts.a"), AllocationTag.define("counts.b"), AllocationTag.define("counts.c")};
        long[] sizes = {64, 4096, 600_000, (4L << 20) + 4096}; // up to blocks that publish at once (over 1 MiB)
        try (VolatilePool pool = TestPools.create(256L << 20)) {
            long[] inUse = new long[tags.length + 1]; // per tag, and untagged last
            long[] peak = new long[tags.length + 1];
            long total = 0;
            long totalPeak = 0;
            List<long[]> live = new ArrayList<>(); // {address, tag index or -1, usable, typed}
            Random r = new Random(7);
            for (int i = 0; i < 20_000; i++) {
                if (live.isEmpty() || live.size() < 40 && r.nextInt(100) < 52) {
                    long size = sizes[r.nextInt(100) < 90 ? r.nextInt(2) : 2 + r.nextInt(2)];
                    int t = r.nextInt(tags.length + 1) - 1;
                    boolean typed = t >= 0 && r.nextBoolean();
                    long a = t < 0 ? pool.malloc(size) : typed ? pool.typed(tags[t]).malloc(size) : pool.malloc(size, tags[t]);
                    assertTrue(a != 0);
                    long usable = SizeClasses.usable(size);
                    live.add(new long[] {a, t, usable, typed ? 1 : 0});
                    int k = t < 0 ? tags.length : t;
                    inUse[k] += usable;
                    peak[k] = Math.max(peak[k], inUse[k]);
                    total += usable;
                    totalPeak = Math.max(totalPeak, total);
                } else {
                    long[] b = live.remove(r.nextInt(live.size()));
                    if (b[3] == 1) {
                        pool.typed(tags[(int) b[1]]).free(b[0]);
                    } else {
                        pool.free(b[0]);
                    }
                    int k = b[1] < 0 ? tags.length : (int) b[1];
                    inUse[k] -= b[2];
                    total -= b[2];
                }
                if (i % 997 == 0 || i == 19_999) {
                    PoolStats s = pool.stats();
                    for (int t = 0; t < tags.length; t++) {
                        PoolStats.TagStats ts = s.tag(tags[t].name());
                        assertEquals(inUse[t], ts == null ? 0 : ts.inUse(), "in use of " + tags[t].name() + " at " + i);
                        assertEquals(peak[t], ts == null ? 0 : ts.peakInUse(), "peak of " + tags[t].name() + " at " + i);
                    }
                    assertEquals(total, s.allocated(), "allocated at " + i);
                    assertEquals(totalPeak, s.peakAllocated(), "peak allocated at " + i);
                }
            }
        }
    }

    private static int slot(long size) {
        int cls = SizeClasses.index(size);
        return cls < 0 ? SizeClasses.NCLASSES : cls;
    }

    /** The statistics of the size class serving {@code size} bytes; null if the snapshot lists none. */
    static PoolStats.SizeClassStats classOf(PoolStats s, long size) {
        int cls = SizeClasses.index(size);
        for (PoolStats.SizeClassStats c : s.sizeClasses()) {
            if (c.index() == cls) {
                return c;
            }
        }
        return null;
    }

    private static void assertMatches(Map<Integer, long[]> oracle, PoolStats s) {
        long mallocs = 0;
        long frees = 0;
        Map<Integer, PoolStats.SizeClassStats> byIndex = new HashMap<>();
        for (PoolStats.SizeClassStats c : s.sizeClasses()) {
            byIndex.put(c.index(), c);
        }
        for (Map.Entry<Integer, long[]> e : oracle.entrySet()) {
            PoolStats.SizeClassStats c = byIndex.get(e.getKey());
            assertTrue(c != null, "class slot " + e.getKey() + " is listed");
            assertEquals(e.getValue()[0], c.mallocs(), "mallocs of class slot " + e.getKey());
            assertEquals(e.getValue()[1], c.frees(), "frees of class slot " + e.getKey());
            mallocs += e.getValue()[0];
            frees += e.getValue()[1];
        }
        assertEquals(mallocs, s.mallocs());
        assertEquals(frees, s.frees());
    }
}
