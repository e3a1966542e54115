package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@org.junit.jupiter.api.Tag("unit")
class CtoStatsTest {
    @TempDir
    Path dir;

    @Test
    void reopenedPoolCountsBlocksLiveFromTheLastSessionAsAllocatedButNotAsMallocs() throws Exception {
        Path path = dir.resolve("stats.pool");
        long allocated;
        try (CtoPool pool = CtoPool.create(path, "stats", 32L << 20)) {
            for (int i = 0; i < 100; i++) {
                pool.malloc(100);
                pool.malloc(20_000);
            }
            pool.malloc(5L << 20);
            long freed = pool.malloc(64);
            pool.free(freed);
            allocated = pool.stats().allocated();
        }
        try (CtoPool pool = CtoPool.open(path, "stats")) {
            PoolStats s = pool.stats();
            assertEquals(allocated, s.allocated());
            assertEquals(allocated, s.peakAllocated());
            assertEquals(0, s.mallocs());
            assertEquals(0, s.frees());
            long a = pool.malloc(100);
            assertEquals(allocated + 112, pool.stats().allocated());
            assertEquals(1, pool.stats().mallocs());
            pool.free(a);
        }
        Files.delete(path);
    }
}
