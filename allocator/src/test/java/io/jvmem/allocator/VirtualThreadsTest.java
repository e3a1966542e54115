package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Virtual threads have no thread cache of their own (a cache per virtual thread would hold blocks for threads that
 * may number millions); they share one under its lock. Each test parks its virtual threads while they hold blocks, so
 * that many of them take turns on the few carrier threads in the middle of their work.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
@org.junit.jupiter.api.Tag("unit")
class VirtualThreadsTest {
    private static final int THREADS = 500;
    private static final int ROUNDS = 200;

    @TempDir
    Path dir;

    /** Each virtual thread writes its own pattern into the blocks it holds, parks, and checks it before the free. */
    private static long holdAndCheck(MemoryPool pool, AllocationTag tag, int id) {
        long[] held = new long[4];
        long damaged = 0;
        for (int i = 0; i < ROUNDS; i++) {
            int k = i & 3;
            if (held[k] != 0) {
                if (TestPools.ALL.get(ValueLayout.JAVA_LONG, held[k]) != pattern(id, k)
                        || TestPools.ALL.get(ValueLayout.JAVA_LONG, held[k] + 56) != ~pattern(id, k)) {
                    damaged++;
                }
                if (tag == null) {
                    pool.free(held[k]);
                } else {
                    pool.free(held[k], tag);
                }
            }
            long size = 64 + (i % 7) * 48; // several size classes
            held[k] = tag == null ? pool.malloc(size) : pool.mallocTyped(size, tag);
            if (held[k] == 0) {
                throw new AssertionError("malloc failed: " + MemoryPool.lastError());
            }
            TestPools.ALL.set(ValueLayout.JAVA_LONG, held[k], pattern(id, k));
            TestPools.ALL.set(ValueLayout.JAVA_LONG, held[k] + 56, ~pattern(id, k));
            if ((i & 7) == 0) {
                LockSupport.parkNanos(10_000); // unmounts: another virtual thread takes this carrier
            }
        }
        for (long h : held) {
            if (tag == null) {
                pool.free(h);
            } else {
                pool.free(h, tag);
            }
        }
        return damaged;
    }

    private static long pattern(int id, int k) {
        return id * 0x9E3779B97F4A7C15L + k;
    }

    private static long runAll(MemoryPool pool, AllocationTag tag) throws Exception {
        long damaged = 0;
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Long>> fs = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int id = t;
                fs.add(ex.submit(() -> holdAndCheck(pool, tag, id)));
            }
            for (Future<Long> f : fs) {
                damaged += f.get();
            }
        }
        return damaged;
    }

    @Test
    void virtualThreadsAllocatingAtOnceNeverShareABlockAndGiveEveryByteBack() throws Exception {
        try (VolatilePool pool = TestPools.create(64L << 20)) {
            assertEquals(0, runAll(pool, null), "blocks written by one virtual thread and changed by another");
            assertEquals(0, pool.stats().allocated(), "bytes still allocated after every free");
        }
    }

    @Test
    void aTagsCountersBalanceAfterVirtualThreadsFreeEverythingTheyTypedAllocated() throws Exception {
        AllocationTag t = AllocationTag.define("virtual.typed");
        try (VolatilePool pool = TestPools.create(64L << 20)) {
            assertEquals(0, runAll(pool, t));
            PoolStats.TagStats s = pool.stats().tag(t.name());
            assertEquals(0, s.inUse(), "in use under the tag");
            assertEquals((long) THREADS * ROUNDS, s.requests(), "requests under the tag");
        }
    }

    @Test
    void aCloseToOpenPoolUsedByVirtualThreadsClosesCleanlyAndReopensWithItsRoot() throws Exception {
        Path file = dir.resolve("virtual.cto");
        try (CtoPool pool = CtoPool.create(file, "virtual", 64L << 20)) {
            assertEquals(0, runAll(pool, null));
            long root = pool.malloc(64);
            assertNotEquals(0, root);
            TestPools.ALL.set(ValueLayout.JAVA_LONG, root, 0x5EED_CAFEL);
            pool.setRoot(root);
        }
        try (CtoPool again = CtoPool.open(file, "virtual")) {
            assertTrue(again.root() != 0, "root kept");
            assertEquals(0x5EED_CAFEL, TestPools.ALL.get(ValueLayout.JAVA_LONG, again.root()));
            assertEquals(64, again.stats().allocated(), "only the root is allocated after the virtual threads' frees");
        }
    }
}
