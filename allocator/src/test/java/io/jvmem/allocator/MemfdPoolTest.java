package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Volatile pools in an anonymous memory file (memfd_create): no directory, so no /dev/shm limit. */
@org.junit.jupiter.api.Tag("unit")
class MemfdPoolTest {
    private static final long MIB = 1L << 20;

    private static boolean mapped(String name) throws Exception {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().anyMatch(l -> l.contains("/memfd:jvmem:" + name));
    }

    @Test
    @Timeout(60)
    void aMemfdPoolAllocatesWithNoDirectoryBehindIt() throws Exception {
        try (VolatilePool pool = VolatilePool.createMemfd("mfd-a", 32 * MIB, PoolOptions.DEFAULT)) {
            assertEquals("memfd:", pool.path());
            assertTrue(mapped("mfd-a"), "the mapping is a memfd");
            long a = pool.malloc(MIB);
            assertNotEquals(0, a);
            TestPools.fill(a, MIB, (byte) 3);
            assertTrue(TestPools.all(a, MIB, (byte) 3));
            pool.free(a);
            assertTrue(pool.check().consistent());
        }
        assertTrue(!mapped("mfd-a"), "delete unmaps and closes the memfd");
    }

    @Test
    @Timeout(60)
    void aMemfdPoolLargerThanAvailableMemoryIsRefusedBeforeAnythingIsReserved() {
        long available = PoolFile.memAvailable();
        org.junit.jupiter.api.Assumptions.assumeTrue(available > 0, "no MemAvailable in /proc/meminfo");
        long size = (available + (1L << 30)) & -(2L << 20);
        PoolException e = org.junit.jupiter.api.Assertions.assertThrows(PoolException.class,
                () -> VolatilePool.createMemfd("mfd-c", size, PoolOptions.DEFAULT));
        assertEquals(PoolErrorReason.NO_SPACE, e.reason());
        assertTrue(e.getMessage().contains("memory has") && e.getMessage().contains("nothing was reserved"), e.getMessage());
        try (VolatilePool pool = VolatilePool.createMemfd("mfd-c", 300 * MIB, PoolOptions.DEFAULT.withMaxSize(size))) {
            assertEquals(0, pool.malloc(available + (512L << 20)));
            assertEquals(PoolErrorReason.NO_SPACE, MemoryPool.lastErrorReason(), "growth past available memory: "
                    + MemoryPool.lastError());
            assertTrue(pool.check().consistent());
        }
    }

    @Test
    @Timeout(60)
    void aMemfdPoolPunchesFreedPages() {
        try (VolatilePool pool = VolatilePool.createMemfd("mfd-b", 32 * MIB, PoolOptions.DEFAULT.withThreadCacheMax(0))) {
            long a = pool.malloc(8 * MIB);
            TestPools.fill(a, 8 * MIB, (byte) 5);
            pool.free(a);
            assertTrue(pool.purge() >= 8 * MIB);
            long z = pool.calloc(1, 8 * MIB);
            assertTrue(TestPools.all(z, 8 * MIB, (byte) 0), "punched pages read as zero");
        }
    }
}
