package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** Freed pages go back to the file system after the decay time, and come back zeroed and reserved. */
@org.junit.jupiter.api.Tag("unit")
class DecayTest {
    @Test
    void purgeReturnsFreedPagesToTheFileSystem() throws Exception {
        try (SmallTmpfs fs = SmallTmpfs.mount(160L << 20); // its own file system: /dev/shm is shared by the machine
             VolatilePool pool = VolatilePool.create("decay", fs.dir, 128L << 20, PoolOptions.DEFAULT.withDecayMillis(-1))) {
            long a = pool.malloc(64L << 20);
            TestPools.fill(a, 64L << 20, (byte) 1);
            pool.free(a);
            long before = fs.free();
            long purged = pool.purge();
            long after = fs.free();
            assertTrue(purged >= 64L << 20, "purged " + purged);
            assertTrue(after - before >= 60L << 20, "file system got " + (after - before));
            assertEquals(0, pool.stats().dirty());
        }
    }

    @Test
    void purgedPagesAreReservedAgainAndReadAsZero() {
        try (VolatilePool pool = TestPools.create(64L << 20, PoolOptions.DEFAULT.withDecayMillis(-1))) {
            long a = pool.malloc(32L << 20);
            TestPools.fill(a, 32L << 20, (byte) 0x55);
            pool.free(a);
            pool.purge();
            long b = pool.malloc(32L << 20);
            assertTrue(TestPools.all(b, 32L << 20, (byte) 0));
            TestPools.fill(b, 32L << 20, (byte) 2); // would SIGBUS if the space had not been reserved again
            pool.free(b);
            assertTrue(pool.check().consistent());
        }
    }

    @Test
    void dirtyPagesArePurgedAfterTheDecayTime() throws InterruptedException {
        try (VolatilePool pool = TestPools.create(64L << 20, PoolOptions.DEFAULT.withDecayMillis(200))) {
            long a = pool.malloc(16L << 20);
            TestPools.fill(a, 16L << 20, (byte) 1);
            pool.free(a);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (pool.stats().purged() < (16L << 20) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(pool.stats().purged() >= 16L << 20, "purged " + pool.stats().purged());
        }
    }

    @Test
    void callocOfFreshPagesSkipsZeroingButStillReadsZero() {
        try (VolatilePool pool = TestPools.create(64L << 20)) {
            long a = pool.calloc(1, 40L << 20);
            assertTrue(TestPools.all(a, 40L << 20, (byte) 0));
            pool.free(a);
        }
    }
}
