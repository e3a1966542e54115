package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Huge pages, where this machine permits them (root: /proc/sys/vm/nr_hugepages, mount -t hugetlbfs, the THP shmem
 * knob); each test restores every setting it changed, and skips with the reason where it may not change it.
 */
@org.junit.jupiter.api.Tag("unit")
class HugePagesTest {
    private static final long MIB = 1L << 20;
    private static final long HUGE = 2 * MIB;
    private static final Path NR = Path.of("/proc/sys/vm/nr_hugepages");
    private static final Path SHMEM_THP = Path.of("/sys/kernel/mm/transparent_hugepage/shmem_enabled");

    private String savedNr;
    private String savedShmem;
    private Path mount;

    @BeforeEach
    void save() throws IOException {
        savedNr = read(NR);
        savedShmem = Files.exists(SHMEM_THP) ? selected(read(SHMEM_THP)) : null;
    }

    @AfterEach
    void restore() throws Exception {
        if (mount != null) {
            new ProcessBuilder("umount", mount.toString()).start().waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(mount);
        }
        write(NR, savedNr);
        if (savedShmem != null) {
            write(SHMEM_THP, savedShmem);
        }
        assertEquals(savedNr, read(NR), "nr_hugepages restored");
    }

    /** The bracketed choice of a sysfs knob such as "always [never] deny". */
    private static String selected(String knob) {
        int a = knob.indexOf('[');
        return knob.substring(a + 1, knob.indexOf(']', a));
    }

    /** Reads a kernel setting whole: Files.readString gives only the first byte of /proc/sys/vm/nr_hugepages. */
    private static String read(Path p) throws IOException {
        try (java.io.FileInputStream in = new java.io.FileInputStream(p.toFile())) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).trim();
        }
    }

    /** Writes a kernel setting as echo does. */
    private static boolean write(Path p, String v) {
        try {
            Process w = new ProcessBuilder("sh", "-c", "echo \"$1\" > \"$2\"", "sh", v, p.toString())
                    .redirectErrorStream(true).start();
            return w.waitFor(10, TimeUnit.SECONDS) && w.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static long hugePagesFree() throws IOException {
        return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("HugePages_Free:"))
                .mapToLong(l -> Long.parseLong(l.split("\\s+")[1])).findFirst().orElse(-1);
    }

    /** Reserves {@code pages} more 2 MiB pages and mounts a hugetlbfs of them; skips where not permitted. */
    private Path hugetlbfs(int pages) throws Exception {
        long before = Long.parseLong(savedNr);
        Assumptions.assumeTrue(write(NR, Long.toString(before + pages)), "cannot write " + NR + " (needs root)");
        long now = Long.parseLong(read(NR));
        Assumptions.assumeTrue(now >= before + pages,
                "the kernel could not reserve " + pages + " huge pages (memory fragmented): nr_hugepages is " + now);
        mount = Files.createTempDirectory("jvmem-hugetlbfs");
        Process p = new ProcessBuilder("mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "none", mount.toString())
                .redirectErrorStream(true).start();
        boolean ok = p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        if (!ok) {
            Files.deleteIfExists(mount);
            mount = null;
        }
        Assumptions.assumeTrue(ok, "cannot mount hugetlbfs here (needs root)");
        return mount;
    }

    @Test
    @Timeout(60)
    void aPoolInAHugetlbfsDirectoryIsBackedByHugePages() throws Exception {
        Path dir = hugetlbfs(32);
        try (VolatilePool pool = VolatilePool.create("huge", dir, 32 * MIB)) {
            long a = pool.malloc(8 * MIB);
            assertNotEquals(0, a, MemoryPool.lastError());
            TestPools.fill(a, 8 * MIB, (byte) 1);
            PoolStats.Tier t = pool.stats().tier();
            assertEquals(HUGE, t.filePageSize());
            assertEquals("hugetlbfs", t.hugePages());
            assertTrue(t.hugePageBytes() >= 8 * MIB, "bytes backed by huge pages: " + t.hugePageBytes());
            assertEquals(0, pool.allocator().layout.heapOffset % HUGE, "the heap starts on a huge page");
            assertTrue(pool.check().consistent());
        }
    }

    @Test
    @Timeout(60)
    void aHugetlbfsPoolComesInWholeHugePages() throws Exception {
        Path dir = hugetlbfs(16);
        PoolException e = assertThrows(PoolException.class, () -> VolatilePool.create("huge", dir, 15 * MIB));
        assertEquals(PoolErrorReason.BAD_ARGUMENT, e.reason());
        assertTrue(e.getMessage().contains("2097152-byte pages"), e.getMessage());
    }

    @Test
    @Timeout(60)
    void purgeGivesBackWholeHugePagesAndTheRunReadsZero() throws Exception {
        Path dir = hugetlbfs(32);
        try (VolatilePool pool = VolatilePool.create("huge", dir, 32 * MIB, PoolOptions.DEFAULT.withThreadCacheMax(0))) {
            long a = pool.malloc(16 * MIB);
            TestPools.fill(a, 16 * MIB, (byte) 9);
            long before = hugePagesFree();
            pool.free(a);
            assertTrue(pool.purge() >= 16 * MIB);
            assertTrue(hugePagesFree() >= before + 6, "huge pages returned: " + before + " -> " + hugePagesFree());
            long z = pool.calloc(1, 16 * MIB);
            assertNotEquals(0, z, MemoryPool.lastError());
            assertTrue(TestPools.all(z, 16 * MIB, (byte) 0), "a purged run reads zero, its partial huge pages too");
            assertTrue(pool.check().consistent());
        }
    }

    @Test
    @Timeout(60)
    void aCtoPoolRecordsItsPageSizeAndAReopenChecksIt(@TempDir Path tmp) throws Exception {
        Path dir = hugetlbfs(64);
        Path file = dir.resolve("p.pool");
        try (CtoPool pool = CtoPool.create(file, "h", 32 * MIB, 0600, PoolOptions.DEFAULT.withMaxSize(64 * MIB))) {
            long a = pool.malloc(40 * MIB); // grows by whole huge pages
            assertNotEquals(0, a, MemoryPool.lastError());
            TestPools.fill(a, 40 * MIB, (byte) 2);
            pool.setRoot(a);
        }
        try (NamedFiles.Reader r = NamedFiles.openForCheck(file)) {
            assertEquals(HUGE, r.read(java.lang.foreign.Arena.ofAuto(), PoolLayout.OFF_PAGE_SIZE, 8)
                    .get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0));
        }
        try (CtoPool pool = CtoPool.open(file, "h")) {
            assertEquals(0, pool.size() % HUGE);
            assertTrue(TestPools.all(pool.root(), 40 * MIB, (byte) 2));
        }
        Path copy = Files.copy(file, tmp.resolve("p.pool"), StandardCopyOption.COPY_ATTRIBUTES); // onto 4 KiB pages
        PoolException e = assertThrows(PoolException.class, () -> CtoPool.open(copy, "h"));
        assertEquals(PoolErrorReason.PAGE_SIZE, e.reason());
    }

    @Test
    @Timeout(60)
    void transparentHugePagesBackAMemfdPoolWhereTheKernelAllowsThem() throws Exception {
        Assumptions.assumeTrue(savedShmem != null && write(SHMEM_THP, "advise"), "cannot set " + SHMEM_THP + " (needs root)");
        try (VolatilePool pool = VolatilePool.createMemfd("thp", 64 * MIB,
                PoolOptions.DEFAULT.withHugePages(PoolOptions.HugePages.TRANSPARENT))) {
            long a = pool.alignedAlloc(HUGE, 32 * MIB);
            TestPools.fill(a, 32 * MIB, (byte) 1);
            PoolStats.Tier t = pool.stats().tier();
            assertEquals("transparent", t.hugePages());
            assertTrue(t.hugePageBytes() >= 16 * MIB, "bytes backed by huge pages: " + t.hugePageBytes());
        }
    }

    @Test
    @Timeout(60)
    void transparentHugePagesAskedForButRefusedAreReportedAsNone() throws Exception {
        Assumptions.assumeTrue(savedShmem != null && write(SHMEM_THP, "never"), "cannot set " + SHMEM_THP + " (needs root)");
        try (VolatilePool pool = VolatilePool.createMemfd("thp", 32 * MIB,
                PoolOptions.DEFAULT.withHugePages(PoolOptions.HugePages.TRANSPARENT))) {
            long a = pool.malloc(16 * MIB);
            TestPools.fill(a, 16 * MIB, (byte) 1);
            PoolStats.Tier t = pool.stats().tier();
            assertEquals("transparent", t.hugePages());
            assertEquals(0, t.hugePageBytes(), "asked for, not obtained: the stats say so");
        }
    }
}
