package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * NUMA placement verified through the kernel on this machine's node 0: /proc/self/numa_maps shows the policy on the
 * pool's mapping, and move_pages reports node 0 for every touched page.
 */
@org.junit.jupiter.api.Tag("unit")
class NumaPlacementTest {
    private static final long MIB = 1L << 20;

    private static void assumeNode0() {
        Assumptions.assumeTrue(Placement.sysfsNodes("has_memory") != null
                && Placement.sysfsNodes("has_memory").contains(0), "no NUMA node 0 with memory in sysfs");
    }

    /** The numa_maps line of the mapping that holds {@code address} (the kernel merges a grown chunk into its neighbour). */
    static String numaMapsLine(long address) throws IOException {
        String hex = Files.readAllLines(Path.of("/proc/self/maps")).stream().map(l -> l.substring(0, l.indexOf(' ')))
                .filter(r -> Long.parseUnsignedLong(r.substring(0, r.indexOf('-')), 16) <= address
                        && Long.parseUnsignedLong(r.substring(r.indexOf('-') + 1), 16) > address)
                .map(r -> r.substring(0, r.indexOf('-'))).findFirst().orElse("none");
        return Files.readAllLines(Path.of("/proc/self/numa_maps")).stream()
                .filter(l -> l.startsWith(hex + " ")).findFirst().orElse("");
    }

    @Test
    @Timeout(60)
    void aPoolBoundToNode0HasEveryTouchedPageOnNode0() throws Exception {
        assumeNode0();
        try (VolatilePool pool = VolatilePool.createMemfd("numa", 32 * MIB,
                PoolOptions.DEFAULT.withNumaPolicy(NumaPolicy.bind(0)))) {
            long a = pool.malloc(8 * MIB);
            assertNotEquals(0, a);
            TestPools.fill(a, 8 * MIB, (byte) 1);
            assertTrue(numaMapsLine(pool.allocator().base).contains(" bind:0 "),
                    "numa_maps: " + numaMapsLine(pool.allocator().base));
            PoolStats.Tier t = pool.stats().tier();
            assertEquals("bind:0", t.numaPolicy());
            assertEquals(1, t.pagesPerNode().size(), "pages on node 0 only: " + t.pagesPerNode());
            assertTrue(t.pagesPerNode().get(0) >= 8 * MIB / 4096, "touched pages on node 0: " + t);
            assertTrue(pool.statsPrint("").contains("bind:0"));
        }
    }

    @Test
    @Timeout(60)
    void preferredAndInterleavePoliciesReachTheMapping(@org.junit.jupiter.api.io.TempDir Path unused) throws Exception {
        assumeNode0();
        try (VolatilePool pool = VolatilePool.create("numa", TestPools.SHM, 16 * MIB,
                PoolOptions.DEFAULT.withNumaPolicy(NumaPolicy.preferred(0)))) {
            assertTrue(numaMapsLine(pool.allocator().base).contains(" prefer:0 "), numaMapsLine(pool.allocator().base));
        }
        try (VolatilePool pool = VolatilePool.createMemfd("numa", 16 * MIB,
                PoolOptions.DEFAULT.withNumaPolicy(NumaPolicy.interleave(0)))) {
            assertTrue(numaMapsLine(pool.allocator().base).contains(" interleave:0 "), numaMapsLine(pool.allocator().base));
        }
    }

    @Test
    @Timeout(60)
    void aGrownChunkIsPlacedToo() throws Exception {
        assumeNode0();
        try (VolatilePool pool = VolatilePool.createMemfd("numa", 16 * MIB,
                PoolOptions.DEFAULT.withNumaPolicy(NumaPolicy.bind(0)).withMaxSize(256 * MIB))) {
            long a = pool.malloc(64 * MIB);
            assertNotEquals(0, a, MemoryPool.lastError());
            TestPools.fill(a, 64 * MIB, (byte) 1);
            long grownChunk = pool.allocator().base + 16 * MIB;
            assertTrue(numaMapsLine(grownChunk).contains(" bind:0 "), "grown chunk: " + numaMapsLine(grownChunk));
            assertTrue(pool.stats().tier().pagesPerNode().get(0) >= 64 * MIB / 4096);
        }
    }

    @Test
    @Timeout(60)
    void aNodeThatDoesNotExistIsRefusedAtCreate(@org.junit.jupiter.api.io.TempDir Path dir) {
        assumeNode0();
        int missing = 1000;
        PoolException e = assertThrows(PoolException.class, () -> VolatilePool.createMemfd("numa", 16 * MIB,
                PoolOptions.DEFAULT.withNumaPolicy(NumaPolicy.bind(0, missing))));
        assertEquals(PoolErrorReason.NUMA_NODE, e.reason());
        assertTrue(e.getMessage().contains("node " + missing + " does not exist"), e.getMessage());
        PoolException cto = assertThrows(PoolException.class, () -> CtoPool.create(dir.resolve("p"), "n", 16 * MIB, 0600,
                PoolOptions.DEFAULT.withNumaPolicy(NumaPolicy.preferred(missing))));
        assertEquals(PoolErrorReason.NUMA_NODE, cto.reason());
        assertTrue(Files.notExists(dir.resolve("p")), "nothing is made for a refused policy");
    }
}
