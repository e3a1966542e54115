package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Where a volatile pool's memory comes from: temporary file, device, region; and how it goes away. */
@org.junit.jupiter.api.Tag("unit")
class PoolFileTest {
    @TempDir
    Path dir;

    private static List<String> list(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(Path::toString).sorted().toList();
        }
    }

    private static long openFilesIn(Path d) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().startsWith(d.toString());
                } catch (IOException e) {
                    return false;
                }
            }).count();
        }
    }

    @Test
    void theTemporaryFileIsInvisibleInItsDirectory() throws IOException {
        List<String> before = list(dir);
        try (VolatilePool pool = VolatilePool.create("t", dir, 16L << 20)) {
            assertNotEquals(0, pool.malloc(100));
            assertEquals(before, list(dir));
            assertEquals(1, openFilesIn(dir), "the pool holds its unlinked file open");
        }
        assertEquals(before, list(dir));
    }

    @Test
    void onTmpfsTheTemporaryFileIsInvisibleToo() throws IOException {
        Path shmDir = Files.createTempDirectory(TestPools.SHM, "jvmem-invisible");
        try {
            assertTrue(TmpfsFile.isTmpfs(shmDir));
            try (VolatilePool pool = VolatilePool.create("t", shmDir, 16L << 20)) {
                assertNotEquals(0, pool.malloc(100));
                assertEquals(List.of(), list(shmDir));
                assertEquals(1, openFilesIn(shmDir), "the pool holds its unlinked file open");
            }
            assertEquals(0, openFilesIn(shmDir));
        } finally {
            Files.delete(shmDir);
        }
    }

    @Test
    void onlySmallTmpfsPoolsAreCreatedWithoutTheLinker() {
        PoolOptions d = PoolOptions.DEFAULT;
        assertTrue(!VolatilePool.createNeedsLinker(TestPools.SHM, 64L << 20, d), "tmpfs, 64 MiB: the JDK's file API");
        assertTrue(VolatilePool.createNeedsLinker(TestPools.SHM, 1L << 30, d), "tmpfs, 1 GiB: fallocate is faster");
        assertTrue(!VolatilePool.createNeedsLinker(TestPools.SHM, 1L << 30, d.withReserveInBackground(true)),
                "tmpfs, 1 GiB reserved in the background: the JDK's file API");
        Assumptions.assumeFalse(TmpfsFile.isTmpfs(dir), "the temporary directory is a tmpfs here");
        assertTrue(VolatilePool.createNeedsLinker(dir, 64L << 20, d.withReserveInBackground(true)),
                "other file systems: fallocate (hugetlbfs cannot write)");
    }

    @Test
    @Timeout(60)
    void aTmpfsReservationThatFailsMidwayFailsCleanly() throws Exception {
        // Simulated ENOSPC after 16 MiB on the JDK-file-API path (the mounted small tmpfs above is the real one), on a
        // tmpfs of its own: /dev/shm's free space moves with everything else on the machine.
        try (SmallTmpfs fs = SmallTmpfs.mount(96L << 20)) {
            Path shmDir = fs.dir;
            long free0 = Files.getFileStore(shmDir).getUsableSpace();
            PoolException e = assertThrows(PoolException.class, () -> TmpfsFile.create(shmDir, 64L << 20, false, 16L << 20));
            assertEquals(PoolErrorReason.NO_SPACE, e.reason(), e.getMessage());
            assertEquals(List.of(), list(shmDir), "nothing is left behind");
            assertEquals(0, openFilesIn(shmDir));
            assertEquals(free0, Files.getFileStore(shmDir).getUsableSpace(), "the partial reservation was released");
        }
    }

    @Test
    void deleteReleasesTheFileAndItsSpace() throws Exception {
        try (SmallTmpfs fs = SmallTmpfs.mount(320L << 20)) {
            deleteReleasesTheFileAndItsSpace(fs.dir);
        }
    }

    private static void deleteReleasesTheFileAndItsSpace(Path shm) throws IOException {
        long size = 256L << 20;
        long free0 = Files.getFileStore(shm).getUsableSpace();
        VolatilePool pool = VolatilePool.create("t", shm, size);
        long free1 = Files.getFileStore(shm).getUsableSpace();
        assertTrue(free0 - free1 >= size * 9 / 10, "space is reserved at creation: " + (free0 - free1));
        pool.delete();
        long free2 = Files.getFileStore(shm).getUsableSpace();
        assertTrue(free2 - free1 >= size * 9 / 10, "space is released on delete: " + (free2 - free1));
        assertEquals(0, openFilesIn(shm));
    }

    @Test
    @Timeout(60)
    void aPoolBelowTheMinimumSizeIsRefused() {
        PoolException e = assertThrows(PoolException.class, () -> VolatilePool.create("t", dir, VolatilePool.MIN_POOL - 1));
        assertEquals(PoolErrorReason.TOO_SMALL, e.reason(), e.getMessage());
        VolatilePool.create("t", dir, VolatilePool.MIN_POOL).delete();
    }

    @Test
    @Timeout(60)
    void aMissingDirectoryIsAClearError() {
        PoolException e = assertThrows(PoolException.class, () -> VolatilePool.create("t", dir.resolve("nope"), 16L << 20));
        assertEquals(PoolErrorReason.NOT_FOUND, e.reason(), e.getMessage());
    }

    @Test
    @Timeout(60)
    void creationOnAFullFileSystemFailsCleanly() throws Exception {
        Path mnt = Files.createTempDirectory("jvmem-small-tmpfs");
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", mnt.toString())
                .redirectErrorStream(true).start();
        boolean mounted = p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        Assumptions.assumeTrue(mounted, "cannot mount a small tmpfs here (needs root); the simulated test covers this");
        try {
            PoolException e = assertThrows(PoolException.class, () -> VolatilePool.create("t", mnt, 64L << 20));
            assertEquals(PoolErrorReason.NO_SPACE, e.reason(), e.getMessage());
            assertEquals(List.of(), list(mnt), "nothing is left behind");
            assertTrue(Files.getFileStore(mnt).getUsableSpace() >= 19L << 20, "the partial reservation was released");
            VolatilePool.create("t", mnt, 16L << 20).delete();
        } finally {
            new ProcessBuilder("umount", mnt.toString()).start().waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(mnt);
        }
    }

    @Test
    @Timeout(60)
    void aReservationThatFailsMidwayFailsCleanly() {
        // Simulated ENOSPC on the second 64 MiB chunk, for machines where a small tmpfs cannot be mounted.
        int[] calls = {0};
        PoolFile.Reserver failing = (fd, mode, off, len) -> ++calls[0] >= 2 ? Native.ENOSPC
                : PoolFile.fallocate(fd, mode, off, len);
        PoolException e = assertThrows(PoolException.class, () -> PoolFiles.createTemp(dir, 256L << 20, failing));
        assertEquals(PoolErrorReason.NO_SPACE, e.reason(), e.getMessage());
        assertEquals(2, calls[0], "the reservation stopped at the chunk that failed");
    }

    @Test
    void poolsFarBeyondTwoGiBWork() {
        Path disk = Path.of(System.getProperty("java.io.tmpdir"));
        long size = 5L << 30;
        try (VolatilePool pool = VolatilePool.create("big", disk, size)) {
            long a = pool.malloc(3L << 30);
            assertNotEquals(0, a, MemoryPool.lastError());
            MemorySegment s = pool.segment(a);
            s.set(ValueLayout.JAVA_LONG, (3L << 30) - 8, 0x1122334455667788L);
            assertEquals(0x1122334455667788L, s.get(ValueLayout.JAVA_LONG, (3L << 30) - 8));
            long b = pool.malloc(1L << 30);
            assertNotEquals(0, b);
            pool.free(a);
            pool.free(b);
            assertTrue(pool.check().consistent());
        }
    }

    @Test
    void aCharacterDeviceIsUsedWhole() {
        // /dev/zero stands in for a device DAX: a character device that can be mapped shared.
        PoolFile dev = PoolFiles.openDevice(Path.of("/dev/zero"), 32L << 20);
        try (VolatilePool pool = VolatilePool.onFile("dax", dev, "/dev/zero", PoolOptions.DEFAULT)) {
            assertEquals(32L << 20, pool.size());
            long a = pool.calloc(1, 1 << 20);
            assertTrue(TestPools.all(a, 1 << 20, (byte) 0));
            pool.free(a);
            assertTrue(pool.check().consistent());
        }
    }

    @Test
    @Timeout(60)
    void aDeviceWithoutAKnownSizeIsAClearError() {
        assertTrue(PoolFiles.isCharDevice(Path.of("/dev/zero")));
        PoolException e = assertThrows(PoolException.class, () -> VolatilePool.create("t", Path.of("/dev/zero"), 0));
        assertEquals(PoolErrorReason.BAD_ARGUMENT, e.reason(), e.getMessage());
    }

    @Test
    void aPoolInACallersRegionOverwritesItAndLeavesItMapped() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment region = arena.allocate(20L << 20, 4096);
            region.fill((byte) 0x77);
            VolatilePool pool = VolatilePool.createInRegion("region", region);
            long a = pool.calloc(1, 5000);
            assertTrue(TestPools.all(a, 5000, (byte) 0));
            long b = pool.malloc(100);
            assertTrue(pool.contains(b) && region.address() <= b && b < region.address() + region.byteSize());
            assertTrue(pool.check().consistent(), pool.check().problems().toString());
            pool.delete();
            region.set(ValueLayout.JAVA_BYTE, 0, (byte) 1); // still the caller's memory
        }
    }

    @Test
    @Timeout(60)
    void anUnalignedRegionIsRefused() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment region = arena.allocate(20L << 20, 4096).asSlice(16);
            PoolException e = assertThrows(PoolException.class, () -> VolatilePool.createInRegion("r", region));
            assertEquals(PoolErrorReason.BAD_ARGUMENT, e.reason(), e.getMessage());
        }
    }
}
