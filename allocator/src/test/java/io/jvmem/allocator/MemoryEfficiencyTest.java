package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Metadata stays under 2% of a 1 GiB pool; random churn at 80% occupancy does not strand the rest. */
@org.junit.jupiter.api.Tag("unit")
class MemoryEfficiencyTest {
    @Test
    void metadataOfAOneGiBPoolIsUnderTwoPercent() {
        try (VolatilePool pool = VolatilePool.create("meta", Path.of(System.getProperty("java.io.tmpdir")), 1L << 30)) {
            PoolStats s = pool.stats();
            double ratio = (double) s.metadata() / s.mapped();
            assertTrue(ratio <= 0.02, "metadata " + s.metadata() + " = " + ratio);
            assertTrue(s.usable() + s.metadata() <= s.mapped());
        }
    }

    private static long size(SplittableRandom r) {
        // log-uniform from 16 B to 128 KiB: every small class, most page-run classes
        return (long) Math.exp(r.nextDouble(Math.log(16), Math.log(128 * 1024)));
    }

    @Test
    void afterChurnAtEightyPercentThePoolServesUntilEightyFivePercentIsLive() {
        try (VolatilePool pool = TestPools.create(256L << 20)) {
            SplittableRandom r = new SplittableRandom(11);
            long usable = pool.stats().usable();
            List<Long> live = new ArrayList<>();
            while (pool.stats().allocated() < usable * 8 / 10) {
                for (int i = 0; i < 100; i++) {
                    live.add(pool.malloc(size(r)));
                }
            }
            for (int i = 0; i < 200_000; i++) {
                int j = r.nextInt(live.size());
                pool.free(live.get(j));
                long a = pool.malloc(size(r));
                assertTrue(a != 0, "failed during churn at " + pool.stats().allocated() * 100 / usable + "%");
                live.set(j, a);
            }
            long a;
            while ((a = pool.malloc(size(r))) != 0) {
                live.add(a);
            }
            double liveRatio = (double) pool.stats().allocated() / usable;
            System.out.printf("first failure at %.1f%% of usable bytes live%n", liveRatio * 100);
            assertTrue(liveRatio >= 0.85, "first failure at " + liveRatio);
            live.forEach(pool::free);
        }
    }
}
