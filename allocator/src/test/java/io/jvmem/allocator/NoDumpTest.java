package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** PoolOptions.noDump: MADV_DONTDUMP on the pool's mapping, seen as the dd VmFlag in /proc/self/smaps. */
@org.junit.jupiter.api.Tag("unit")
class NoDumpTest {
    /** The VmFlags line of the mapping in /proc/self/smaps that contains {@code address}. */
    static String vmFlagsOf(long address) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        boolean inside = false;
        for (String l : lines) {
            if (l.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                String[] range = l.substring(0, l.indexOf(' ')).split("-");
                long from = Long.parseUnsignedLong(range[0], 16);
                long to = Long.parseUnsignedLong(range[1], 16);
                inside = Long.compareUnsigned(address, from) >= 0 && Long.compareUnsigned(address, to) < 0;
            } else if (inside && l.startsWith("VmFlags:")) {
                return l;
            }
        }
        throw new AssertionError("no mapping holds 0x" + Long.toHexString(address));
    }

    @Test
    @Timeout(60)
    void aNoDumpPoolsMappingCarriesTheDdFlag() throws IOException {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL, PoolOptions.DEFAULT.withNoDump(true))) {
            long a = pool.malloc(1 << 20);
            assertNotEquals(0, a);
            String flags = vmFlagsOf(a);
            assertTrue(flags.contains(" dd"), flags);
            assertNotEquals(0, pool.malloc(64, MallocFlags.M_NODUMP));
        }
    }

    @Test
    @Timeout(60)
    void aDefaultPoolIsDumped() throws IOException {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL)) {
            long a = pool.malloc(1 << 20);
            assertFalse(vmFlagsOf(a).contains(" dd"), vmFlagsOf(a));
        }
    }

    @Test
    @Timeout(60)
    void aGrownChunkOfANoDumpPoolCarriesTheDdFlagToo() throws IOException {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL,
                PoolOptions.DEFAULT.withNoDump(true).withMaxSize(256L << 20))) {
            long a = pool.malloc(64L << 20); // beyond the initial 14 MiB: the pool grows
            assertNotEquals(0, a);
            String flags = vmFlagsOf(a + (32L << 20));
            assertTrue(flags.contains(" dd"), flags);
        }
    }
}
