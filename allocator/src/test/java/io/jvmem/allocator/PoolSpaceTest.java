package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A pool that does not fit its file system is refused before any of the file system is taken, leaves nothing behind,
 * and a reservation that fails later gives back what it took. Each test has its own small tmpfs.
 */
@org.junit.jupiter.api.Tag("unit")
class PoolSpaceTest {
    private static final long MOUNT = 100L << 20;

    @AfterEach
    void resume() {
        TmpfsFile.backgroundPaused = false;
    }

    private static List<Path> list(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.toList();
        }
    }

    /** Asserts the refusal took nothing: the least free space seen while it ran is the free space before it. */
    private static void assertRefusedAtOnce(SmallTmpfs fs, Runnable create) throws Exception {
        long free0 = fs.free();
        PoolException[] thrown = new PoolException[1];
        long least = fs.leastFreeDuring(() -> thrown[0] = assertThrows(PoolException.class, create::run));
        assertEquals(PoolErrorReason.NO_SPACE, thrown[0].reason(), thrown[0].getMessage());
        assertEquals(free0, least, "space was taken before the refusal (" + (free0 - least) + " bytes at most)");
        assertEquals(free0, fs.free(), "all of it is free again");
        assertEquals(List.of(), list(fs.dir), "nothing is left behind");
    }

    @Test
    @Timeout(60)
    void volatilePoolLargerThanItsFileSystemIsRefusedAtOnce() throws Exception {
        try (SmallTmpfs fs = SmallTmpfs.mount(MOUNT)) {
            // above 256 MiB: the fallocate path
            assertRefusedAtOnce(fs, () -> VolatilePool.create("big", fs.dir, 1L << 30));
        }
    }

    @Test
    @Timeout(60)
    void smallVolatilePoolLargerThanItsTmpfsIsRefusedAtOnce() throws Exception {
        try (SmallTmpfs fs = SmallTmpfs.mount(MOUNT)) {
            // up to 256 MiB: the JDK file API path, which reserves by writing zeros
            assertRefusedAtOnce(fs, () -> VolatilePool.create("big", fs.dir, 200L << 20));
        }
    }

    @Test
    @Timeout(60)
    void ctoPoolLargerThanItsFileSystemIsRefusedAtOnceAndLeavesNoFile() throws Exception {
        try (SmallTmpfs fs = SmallTmpfs.mount(MOUNT)) {
            assertRefusedAtOnce(fs, () -> CtoPool.create(fs.dir.resolve("big.pool"), "big", 1L << 30));
            assertRefusedAtOnce(fs, () -> CtoPool.openOrCreate(fs.dir.resolve("big.pool"), "big", 1L << 30, false,
                    PoolOptions.DEFAULT));
        }
    }

    @Test
    @Timeout(60)
    void aPoolThatFitsIsStillCreatedOnTheSameFileSystem() throws Exception {
        try (SmallTmpfs fs = SmallTmpfs.mount(MOUNT)) {
            try (VolatilePool pool = VolatilePool.create("fits", fs.dir, 64L << 20)) {
                assertTrue(pool.malloc(32L << 20) != 0, MemoryPool.lastError());
            }
            CtoPool.create(fs.dir.resolve("fits.pool"), "fits", 64L << 20).close();
            assertEquals(PoolCheck.Status.CONSISTENT, CtoPool.check(fs.dir.resolve("fits.pool"), "fits").status());
        }
    }

    @Test
    @Timeout(60)
    void aFileSystemWithoutALimitIsNotMistakenForAFullOne() throws Exception {
        try (SmallTmpfs fs = SmallTmpfs.mount(0)) { // size=0: no limit; statfs reports 0 blocks and 0 free
            VolatilePool.create("small", fs.dir, 32L << 20).delete(); // the JDK file API path
            VolatilePool.create("big", fs.dir, 260L << 20).delete(); // the fallocate path
            CtoPool.create(fs.dir.resolve("p.pool"), "p", 16L << 20).close();
        }
    }

    @Test
    @Timeout(60)
    void aFailedBackgroundReservationStepGivesBackWhatItTook() throws Exception {
        try (SmallTmpfs fs = SmallTmpfs.mount(64L << 20)) {
            TmpfsFile.backgroundPaused = true;
            VolatilePool pool = VolatilePool.create("bg", fs.dir, 48L << 20, PoolOptions.DEFAULT.withReserveInBackground(true));
            try {
                TmpfsFile file = fileOf(pool);
                fs.fill(8L << 20); // someone else takes the room meanwhile: the next 16 MiB step cannot complete
                long before = fs.free();
                TmpfsFile.backgroundPaused = false;
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (file.reserveFailure() == null && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertNotNull(file.reserveFailure(), "the step that did not fit failed");
                assertTrue(fs.free() >= before - (1L << 20), "the failed step gave back what it took: "
                        + fs.free() + " bytes free, " + before + " before it");
                assertEquals(0, pool.malloc(40L << 20), "beyond the reserved part");
                assertEquals(PoolErrorReason.NO_SPACE, MemoryPool.lastErrorReason(), MemoryPool.lastError());
                assertTrue(fs.free() >= before - (1L << 20), "so did the allocation's own step: " + fs.free());
                long small = pool.malloc(1 << 20);
                assertTrue(small != 0, "the reserved part still serves: " + MemoryPool.lastError());
            } finally {
                pool.delete();
            }
        }
    }

    static TmpfsFile fileOf(VolatilePool pool) throws ReflectiveOperationException {
        var f = VolatilePool.class.getDeclaredField("file");
        f.setAccessible(true);
        return (TmpfsFile) f.get(pool);
    }
}
