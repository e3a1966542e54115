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
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Metadata that passes its checksums but contradicts itself: a root that names no live block, live bits that disagree
 * with a slab's in-use count. The files are edited behind the library's back and their checksums recomputed, so only
 * the cross-check of the structures can notice; the pool must be refused, never opened to hand out live memory.
 */
@org.junit.jupiter.api.Tag("unit")
class CtoCrossCheckTest {
    private static final String LAYOUT = "cross";
    private static final long SIZE = CtoPool.MIN_POOL;
    private static final PoolLayout GEOMETRY = PoolLayout.compute(SIZE);
    @TempDir
    Path dir;

    /** A closed pool with ten 64-byte blocks (one slab), a 100 KiB block as root, and offsets of both. */
    private record Closed(Path file, long[] small, long large) {
        /** A region of the small blocks' slab that was never handed out (the cache filled it top down). */
        long freeRegion() {
            return java.util.Arrays.stream(small).max().getAsLong() + 64;
        }
    }

    private Closed closedPool() {
        Path file = dir.resolve("pool");
        long[] small = new long[10];
        long large;
        try (CtoPool pool = CtoPool.create(file, LAYOUT, SIZE)) {
            for (int i = 0; i < small.length; i++) {
                long a = pool.malloc(64);
                TestPools.fill(a, 64, (byte) (i + 1));
                small[i] = pool.offsetOf(a);
            }
            long big = pool.malloc(100_000);
            TestPools.fill(big, 100_000, (byte) 0x77);
            large = pool.offsetOf(big);
            pool.setRoot(big);
        }
        return new Closed(file, small, large);
    }

    private static long heapOffset(long poolOffset) {
        return poolOffset - GEOMETRY.heapOffset;
    }

    private void setRootAndRecompute(Path file, long rootOffset) throws Exception {
        CtoFiles.writeLong(file, PoolLayout.OFF_ROOT, rootOffset);
        CtoFiles.recomputeChecksums(file);
    }

    /** Refused by open with the reason, and reported by the offline check with the same kind of problem line. */
    private static void assertRefused(Path file, String fragment) {
        PoolCheck c = CtoPool.check(file, LAYOUT);
        assertEquals(PoolCheck.Status.INCONSISTENT, c.status(), c.problems().toString());
        assertTrue(c.problems().stream().anyMatch(p -> p.contains(fragment)), c.problems().toString());
        PoolException e = assertThrows(PoolException.class, () -> CtoPool.open(file, LAYOUT).close());
        assertTrue(e.getMessage().contains("corrupted") && e.getMessage().contains(fragment), e.getMessage());
    }

    @Test
    @Timeout(60)
    void theEditedPoolsChecksumsAreValid() throws Exception {
        Closed p = closedPool();
        CtoFiles.recomputeChecksums(p.file());
        assertEquals(PoolCheck.Status.CONSISTENT, CtoPool.check(p.file(), LAYOUT).status());
        try (CtoPool pool = CtoPool.open(p.file(), LAYOUT)) {
            assertEquals(p.large(), pool.offsetOf(pool.root()));
        }
    }

    @Test
    @Timeout(60)
    void aRootIntoAFreePageRunIsRefused() throws Exception {
        Closed p = closedPool();
        setRootAndRecompute(p.file(), GEOMETRY.heapOffset + (GEOMETRY.maxHeapPages << SizeClasses.LG_PAGE) - SizeClasses.PAGE);
        assertRefused(p.file(), "root");
        assertRefused(p.file(), "free page run");
    }

    @Test
    @Timeout(60)
    void aRootIntoThePoolMetadataIsRefused() throws Exception {
        Closed p = closedPool();
        setRootAndRecompute(p.file(), GEOMETRY.liveMapOffset + 64);
        assertRefused(p.file(), "metadata");
    }

    @Test
    @Timeout(60)
    void aRootIntoTheMiddleOfALargeBlockIsRefused() throws Exception {
        Closed p = closedPool();
        setRootAndRecompute(p.file(), p.large() + SizeClasses.PAGE);
        assertRefused(p.file(), "root");
    }

    @Test
    @Timeout(60)
    void aRootIntoTheMiddleOfASmallBlockIsRefused() throws Exception {
        Closed p = closedPool();
        setRootAndRecompute(p.file(), p.small()[3] + 16);
        assertRefused(p.file(), "root");
    }

    @Test
    @Timeout(60)
    void aRootAtAFreeSlabRegionIsRefused() throws Exception {
        Closed p = closedPool();
        setRootAndRecompute(p.file(), p.freeRegion());
        assertRefused(p.file(), "root");
    }

    @Test
    @Timeout(60)
    void aRootPastTheEndOfThePoolIsRefused() throws Exception {
        Closed p = closedPool();
        setRootAndRecompute(p.file(), SIZE + SizeClasses.PAGE);
        assertRefused(p.file(), "root");
    }

    @Test
    @Timeout(60)
    void anUnalignedRootIsRefused() throws Exception {
        Closed p = closedPool();
        setRootAndRecompute(p.file(), p.large() + 3);
        assertRefused(p.file(), "root");
    }

    @Test
    @Timeout(60)
    void aLiveBitClearedUnderALiveSlabRegionIsRefused() throws Exception {
        Closed p = closedPool();
        CtoFiles.clearLiveBit(p.file(), heapOffset(p.small()[3]));
        CtoFiles.recomputeChecksums(p.file());
        assertRefused(p.file(), "regions in use");
    }

    @Test
    @Timeout(60)
    void aLiveBitSetOnAFreeSlabRegionIsRefused() throws Exception {
        Closed p = closedPool();
        CtoFiles.setLiveBit(p.file(), heapOffset(p.freeRegion()));
        CtoFiles.recomputeChecksums(p.file());
        assertRefused(p.file(), "regions in use");
    }

    @Test
    @Timeout(60)
    void aLiveBitClearedUnderALargeRunIsRefused() throws Exception {
        Closed p = closedPool();
        CtoFiles.clearLiveBit(p.file(), heapOffset(p.large()));
        CtoFiles.recomputeChecksums(p.file());
        assertRefused(p.file(), "not marked handed out");
    }

    @Test
    @Timeout(60)
    void anEditedSlabCountIsRefused() throws Exception {
        Closed p = closedPool();
        long slabPage = heapOffset(p.small()[0]) >>> SizeClasses.LG_PAGE;
        long at = GEOMETRY.pageMapOffset + slabPage * 8;
        long e = CtoFiles.readLong(p.file(), at);
        int cls = PageMap.cls(e);
        CtoFiles.writeLong(p.file(), at, PageMap.slab(SizeClasses.slabRegions(cls) + 1, cls, 0));
        CtoFiles.recomputeChecksums(p.file());
        assertRefused(p.file(), "regions in use");
    }

    /** Many slabs of many classes, large and huge runs, several threads, a root: closes and reopens consistent. */
    @Test
    @Timeout(60)
    void aBusyPoolClosesAndReopensConsistentWithItsContents() throws Exception {
        Path file = dir.resolve("busy");
        List<long[]> kept = new ArrayList<>(); // {pool offset, size, seed}
        long rootOffset;
        try (CtoPool pool = CtoPool.create(file, LAYOUT, 64L << 20)) {
            List<Thread> threads = new ArrayList<>();
            java.util.concurrent.ConcurrentLinkedQueue<Throwable> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();
            for (int t = 0; t < 4; t++) {
                int seed = t;
                threads.add(Thread.ofPlatform().uncaughtExceptionHandler((th, e) -> failures.add(e)).start(() -> {
                    Random r = new Random(seed);
                    List<long[]> mine = new ArrayList<>();
                    for (int i = 0; i < 3000; i++) {
                        long size = i % 500 == 0 ? 300_000 + r.nextInt(5_000_000) : 2 + r.nextInt(i % 5 == 0 ? 40_000 : 2000);
                        long a = pool.malloc(size);
                        assertNotEquals(0, a);
                        if (r.nextInt(3) == 0) {
                            pool.free(a);
                        } else {
                            stamp(a, size, i);
                            mine.add(new long[] {pool.offsetOf(a), size, i});
                        }
                        if (mine.size() > 200 && r.nextBoolean()) {
                            pool.free(pool.addressOf(mine.remove(r.nextInt(mine.size()))[0]));
                        }
                    }
                    synchronized (kept) {
                        kept.addAll(mine);
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            assertTrue(failures.isEmpty(), failures.toString());
            long root = pool.addressOf(kept.get(kept.size() / 2)[0]);
            pool.setRoot(root);
            rootOffset = pool.offsetOf(root);
            PoolCheck c = pool.check();
            assertTrue(c.consistent(), c.problems().toString());
        }
        for (int round = 0; round < 3; round++) {
            PoolCheck offline = CtoPool.check(file, LAYOUT);
            assertEquals(PoolCheck.Status.CONSISTENT, offline.status(), offline.problems().toString());
            try (CtoPool pool = CtoPool.open(file, LAYOUT)) {
                PoolCheck c = pool.check();
                assertTrue(c.consistent(), c.problems().toString());
                assertEquals(rootOffset, pool.offsetOf(pool.root()));
                for (long[] k : kept) {
                    assertTrue(stamped(pool.addressOf(k[0]), k[1], (int) k[2]), "block at offset " + k[0]);
                }
                pool.free(pool.malloc(100)); // some churn per session
            }
        }
    }

    private static void stamp(long a, long size, int seed) {
        TestPools.ALL.set(ValueLayout.JAVA_BYTE, a, (byte) seed);
        TestPools.ALL.set(ValueLayout.JAVA_BYTE, a + size - 1, (byte) ~seed);
    }

    private static boolean stamped(long a, long size, int seed) {
        return TestPools.ALL.get(ValueLayout.JAVA_BYTE, a) == (byte) seed
                && TestPools.ALL.get(ValueLayout.JAVA_BYTE, a + size - 1) == (byte) ~seed;
    }

    /** Pools closed by format 2.0 carry session slab ids where 2.1 records in-use counts: they still open. */
    @Test
    @Timeout(60)
    void aPoolClosedByFormat2_0WithoutSlabCountsStillOpens() throws Exception {
        Closed p = closedPool();
        long slabPage = heapOffset(p.small()[0]) >>> SizeClasses.LG_PAGE;
        long at = GEOMETRY.pageMapOffset + slabPage * 8;
        int cls = PageMap.cls(CtoFiles.readLong(p.file(), at));
        for (int i = 0; i < SizeClasses.slabPages(cls); i++) {
            CtoFiles.writeLong(p.file(), at + i * 8L, PageMap.slab(1234, cls, i)); // a session id, not a count
        }
        CtoFiles.writeInt(p.file(), PoolLayout.OFF_MAJOR, 2);
        CtoFiles.writeInt(p.file(), PoolLayout.OFF_MINOR, 0);
        CtoFiles.writeLong(p.file(), PoolLayout.OFF_MAX_SIZE, 0); // 2.x has neither field
        CtoFiles.writeLong(p.file(), PoolLayout.OFF_PAGE_SIZE, 0);
        CtoFiles.recomputeChecksums(p.file());
        PoolCheck c = CtoPool.check(p.file(), LAYOUT);
        assertEquals(PoolCheck.Status.CONSISTENT, c.status(), c.problems().toString());
        try (CtoPool pool = CtoPool.open(p.file(), LAYOUT)) {
            assertTrue(TestPools.all(pool.addressOf(p.small()[3]), 64, (byte) 4));
            assertTrue(pool.check().consistent());
        }
        assertEquals(PoolLayout.MAJOR, (int) CtoFiles.readLong(p.file(), PoolLayout.OFF_MAJOR), "closing upgrades the version");
        assertEquals(PoolLayout.MINOR, (int) CtoFiles.readLong(p.file(), PoolLayout.OFF_MINOR), "closing upgrades the version");
        assertEquals(Files.size(p.file()), CtoFiles.readLong(p.file(), PoolLayout.OFF_MAX_SIZE), "a 2.x pool's maximum is its size");
        assertEquals(PoolCheck.Status.CONSISTENT, CtoPool.check(p.file(), LAYOUT).status());
    }

    @Test
    @Timeout(60)
    void aRootWhoseBlockWasFreedIsReportedByCheckWhileOpen() {
        try (CtoPool pool = CtoPool.create(dir.resolve("freed"), LAYOUT, SIZE)) {
            long a = pool.malloc(200_000);
            pool.setRoot(a);
            pool.free(a);
            PoolCheck c = pool.check();
            assertEquals(PoolCheck.Status.INCONSISTENT, c.status());
            assertTrue(c.problems().stream().anyMatch(s -> s.contains("root")), c.problems().toString());
        }
    }

    @Test
    @Timeout(60)
    void closeClearsARootWhoseBlockWasFreedSoThePoolReopens() {
        Path file = dir.resolve("freed");
        try (CtoPool pool = CtoPool.create(file, LAYOUT, SIZE)) {
            long a = pool.malloc(64);
            pool.setRoot(a);
            pool.free(a);
        }
        assertEquals(PoolCheck.Status.CONSISTENT, CtoPool.check(file, LAYOUT).status());
        try (CtoPool pool = CtoPool.open(file, LAYOUT)) {
            assertEquals(0, pool.root());
        }
    }
}
