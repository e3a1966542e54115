package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Pools that start small and grow in place up to pool.<name>.max-size (PoolOptions.withMaxSize). */
@org.junit.jupiter.api.Tag("unit")
class GrowablePoolTest {
    private static final long MIB = 1L << 20;
    private static final PoolOptions GROWS_TO_1G = PoolOptions.DEFAULT.withMaxSize(1L << 30);

    @Test
    @Timeout(300)
    void aPoolOf16MiBWithA1GiBMaximumServes900MiBOfLiveBlocks() throws Exception {
        try (SmallTmpfs fs = SmallTmpfs.mount(1200 * MIB);
             VolatilePool pool = VolatilePool.create("grow", fs.dir, 16 * MIB, GROWS_TO_1G)) {
            assertEquals(16 * MIB, pool.size());
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 900; i++) {
                long a = pool.malloc(MIB);
                assertNotEquals(0, a, "block " + i + ": " + MemoryPool.lastError());
                TestPools.ALL.set(ValueLayout.JAVA_INT, a, i);
                TestPools.ALL.set(ValueLayout.JAVA_INT, a + MIB - 4, ~i);
                blocks.add(a);
            }
            assertTrue(pool.size() > 900 * MIB && pool.size() <= 1L << 30, "grew to " + pool.size());
            PoolCheck c = pool.check();
            assertTrue(c.consistent(), c.problems().toString());
            for (int i = 0; i < blocks.size(); i++) { // blocks never moved: every one still holds what was written
                assertEquals(i, TestPools.ALL.get(ValueLayout.JAVA_INT, blocks.get(i)));
                assertEquals(~i, TestPools.ALL.get(ValueLayout.JAVA_INT, blocks.get(i) + MIB - 4));
            }
            assertTrue(pool.stats().allocated() >= 900 * MIB);
            assertTrue(pool.stats().tier().chunks() > 1, "the heap is a sequence of chunks");
        }
    }

    @Test
    @Timeout(60)
    void aRequestLargerThanTheMaximumFailsCleanly() {
        try (VolatilePool pool = VolatilePool.createMemfd("grow", 16 * MIB, GROWS_TO_1G)) {
            assertEquals(0, pool.malloc(2L << 30));
            assertEquals(PoolErrorReason.TOO_LARGE, MemoryPool.lastErrorReason());
            assertEquals(16 * MIB, pool.size(), "a request that can never fit does not grow the pool");
            assertTrue(pool.check().consistent());
        }
    }

    @Test
    @Timeout(60)
    void growthStopsAtTheMaximumWithItsOwnReason() {
        try (VolatilePool pool = VolatilePool.createMemfd("grow", 16 * MIB, PoolOptions.DEFAULT.withMaxSize(40 * MIB))) {
            int n = 0;
            while (pool.malloc(MIB) != 0) {
                n++;
            }
            assertEquals(PoolErrorReason.MAX_SIZE, MemoryPool.lastErrorReason(), MemoryPool.lastError());
            assertEquals(40 * MIB, pool.size());
            assertTrue(n > 30, "served " + n + " MiB before the limit");
            assertTrue(pool.check().consistent());
        }
    }

    @Test
    @Timeout(120)
    void growthOnAFullFileSystemFailsCleanlyAndThePoolGoesOn() throws Exception {
        try (SmallTmpfs fs = SmallTmpfs.mount(40 * MIB);
             VolatilePool pool = VolatilePool.create("grow", fs.dir, 16 * MIB, GROWS_TO_1G)) {
            List<Long> blocks = new ArrayList<>();
            long a;
            while ((a = pool.malloc(MIB)) != 0) {
                TestPools.fill(a, MIB, (byte) 7); // touches every page: a page without storage would be SIGBUS
                blocks.add(a);
            }
            assertEquals(PoolErrorReason.NO_SPACE, MemoryPool.lastErrorReason(), MemoryPool.lastError());
            assertTrue(pool.size() <= 40 * MIB, "grew to " + pool.size());
            assertTrue(blocks.size() >= 20, "served " + blocks.size() + " MiB");
            assertTrue(pool.check().consistent());
            pool.free(blocks.removeLast());
            long again = pool.malloc(MIB);
            assertNotEquals(0, again, "a freed block is served again after a failed growth");
            TestPools.fill(again, MIB, (byte) 8);
        }
    }

    @Test
    @Timeout(120)
    void aCtoPoolGrowsClosesAndReopensWithItsContents(@TempDir Path dir) {
        Path file = dir.resolve("grow.pool");
        long[] offsets = new long[100];
        long grownSize;
        try (CtoPool pool = CtoPool.create(file, "g", 16 * MIB, 0600, PoolOptions.DEFAULT.withMaxSize(256 * MIB))) {
            for (int i = 0; i < offsets.length; i++) {
                long a = pool.malloc(MIB);
                assertNotEquals(0, a, MemoryPool.lastError());
                TestPools.fill(a, MIB, (byte) i);
                offsets[i] = pool.offsetOf(a);
            }
            long root = pool.malloc(8);
            TestPools.ALL.set(ValueLayout.JAVA_LONG, root, offsets[99]);
            pool.setRoot(root);
            grownSize = pool.size();
            assertTrue(grownSize > 100 * MIB);
        }
        assertEquals(PoolCheck.Status.CONSISTENT, CtoPool.check(file, "g").status(), CtoPool.check(file, "g").problems().toString());
        try (CtoPool pool = CtoPool.open(file, "g")) {
            assertEquals(grownSize, pool.size());
            assertEquals(offsets[99], TestPools.ALL.get(ValueLayout.JAVA_LONG, pool.root()));
            for (int i = 0; i < offsets.length; i++) {
                assertTrue(TestPools.all(pool.addressOf(offsets[i]), MIB, (byte) i), "block " + i);
            }
            long more = pool.malloc(100 * MIB);
            assertNotEquals(0, more, "a reopened pool grows on: " + MemoryPool.lastError());
            assertTrue(pool.check().consistent());
        }
    }

    @Test
    @Timeout(120)
    void aCtoPoolKilledBetweenGrowingItsFileAndItsHeaderIsNotClosedCleanlyAndCanBeDiscarded(@TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("grow.pool");
        try (CtoPool pool = CtoPool.create(file, "g", 16 * MIB, 0600, PoolOptions.DEFAULT.withMaxSize(256 * MIB))) {
            assertNotEquals(0, pool.malloc(32 * MIB), MemoryPool.lastError());
        }
        long closedSize = Files.size(file);
        CtoFiles.writeLong(file, PoolLayout.OFF_STATE, PoolLayout.STATE_OPEN); // the state a crash leaves
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.allocate(1), closedSize + 2 * MIB - 1); // the file grew; its header did not
        }
        PoolException e = assertThrows(PoolException.class, () -> CtoPool.open(file, "g"));
        assertEquals(PoolErrorReason.NOT_CLOSED_CLEANLY, e.reason(), e.getMessage());
        try (CtoPool pool = CtoPool.open(file, "g", true, PoolOptions.DEFAULT)) {
            assertEquals(closedSize + 2 * MIB, pool.size());
            assertNotEquals(0, pool.malloc(100 * MIB), "started afresh, and grows on: " + MemoryPool.lastError());
            assertTrue(pool.check().consistent());
        }
    }

    @Test
    @Timeout(60)
    void freedPagesOfAGrownHeapAreStillPurged() {
        try (VolatilePool pool = VolatilePool.createMemfd("grow", 16 * MIB, PoolOptions.DEFAULT.withMaxSize(128 * MIB)
                .withThreadCacheMax(0))) {
            long a = pool.malloc(64 * MIB);
            assertNotEquals(0, a, MemoryPool.lastError());
            TestPools.fill(a, 64 * MIB, (byte) 1);
            pool.free(a);
            assertTrue(pool.purge() >= 64 * MIB, "freed pages of the grown part go back");
            assertTrue(pool.check().consistent());
        }
    }

    @Test
    @Timeout(60)
    void aSizeTooSmallForTheMaximumsMetadataIsRefused(@TempDir Path dir) {
        PoolException e = assertThrows(PoolException.class,
                () -> VolatilePool.createMemfd("grow", 16 * MIB, PoolOptions.DEFAULT.withMaxSize(4L << 40)));
        assertEquals(PoolErrorReason.TOO_SMALL, e.reason());
        assertTrue(e.getMessage().contains("maximum size"), e.getMessage());
        assertThrows(PoolException.class, () -> CtoPool.create(dir.resolve("p"), "g", 16 * MIB, 0600,
                PoolOptions.DEFAULT.withMaxSize(4L << 40)));
        assertTrue(Files.notExists(dir.resolve("p")), "a refused create leaves no file");
    }
}
