package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Statistics of a close-to-open pool across close and reopen: tags belong to the process, so blocks found live at
 * reopen are untagged, and freeing them must not take bytes from the tag they had in the last session.
 */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
@org.junit.jupiter.api.Tag("unit")
class CtoStatsOracleTest {
    @TempDir
    Path dir;

    @Test
    void freeingBlocksTaggedInTheLastSessionTakesNothingFromTheirOldTag() {
        AllocationTag tag = AllocationTag.define("cto.oracle.old");
        Path path = dir.resolve("tags.pool");
        long[] offsets = new long[4];
        long[] sizes = {64, 20_000, 200_000, (4L << 20) + 4096}; // slab, page-run classes, huge
        try (CtoPool pool = CtoPool.create(path, "tags", 64L << 20)) {
            for (int i = 0; i < sizes.length; i++) {
                long a = pool.malloc(sizes[i], tag);
                assertTrue(a != 0);
                offsets[i] = pool.offsetOf(a);
            }
        }
        try (CtoPool pool = CtoPool.open(path, "tags")) {
            PoolStats s = pool.stats();
            PoolStats.TagStats old = s.tag(tag.name());
            assertEquals(0, old == null ? 0 : old.inUse(), "the old tag holds nothing in this session");
            long b = pool.malloc(64, tag); // this session's block of the tag
            for (long off : offsets) {
                pool.free(pool.addressOf(off));
            }
            s = pool.stats();
            PoolStats.TagStats now = s.tag(tag.name());
            assertEquals(64, now.inUse(), "in use of the tag: only this session's block");
            assertEquals(1, now.requests());
            assertEquals(64, s.allocated());
            pool.free(b);
            assertEquals(0, pool.stats().tag(tag.name()).inUse());
            assertEquals(0, pool.stats().allocated());
        }
    }

    @Test
    void blocksOtherThreadsCachedAtCloseAreCountedFreeAndTheReopenedPoolHoldsOnlyTheLiveOnes() throws Exception {
        AllocationTag tag = AllocationTag.define("cto.oracle.threads");
        Path path = dir.resolve("threads.pool");
        long live;
        try (CtoPool pool = CtoPool.create(path, "threads", 64L << 20)) {
            CountDownLatch done = new CountDownLatch(3);
            CountDownLatch close = new CountDownLatch(1);
            Thread[] threads = new Thread[3];
            for (int i = 0; i < threads.length; i++) {
                threads[i] = new Thread(() -> {
                    long[] b = new long[200];
                    for (int j = 0; j < b.length; j++) {
                        b[j] = pool.malloc(j % 2 == 0 ? 64 : 16_384, tag);
                    }
                    for (int j = 0; j < b.length; j += 2) {
                        pool.free(b[j]); // into this thread's cache: flushed by close, by the closing thread
                    }
                    done.countDown();
                    try {
                        close.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                threads[i].start();
            }
            done.await();
            PoolStats s = pool.stats();
            live = s.allocated();
            assertEquals(3 * 100 * 16_384L, live);
            assertEquals(live, s.tag(tag.name()).inUse());
            assertEquals(3 * 200, s.tag(tag.name()).requests());
            pool.close();
            close.countDown();
            for (Thread t : threads) {
                t.join();
            }
        }
        try (CtoPool pool = CtoPool.open(path, "threads")) {
            PoolStats s = pool.stats();
            assertEquals(live, s.allocated());
            assertEquals(live, s.tag(AllocationTag.UNTAGGED.name()).inUse());
            assertEquals(0, s.mallocs());
            assertEquals(0, s.frees());
        }
    }
}
