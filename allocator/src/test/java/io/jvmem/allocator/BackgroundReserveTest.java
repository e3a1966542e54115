package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link PoolOptions#reserveInBackground}: create returns before the file is reserved, and nothing is ever unreserved. */
@org.junit.jupiter.api.Tag("unit")
class BackgroundReserveTest {
    private static final PoolOptions BACKGROUND = PoolOptions.DEFAULT.withReserveInBackground(true);

    @AfterEach
    void resume() {
        TmpfsFile.backgroundPaused = false;
        TmpfsFile.backgroundDelayNanos = TmpfsFile.BACKGROUND_DELAY_NANOS;
    }

    private static TmpfsFile fileOf(VolatilePool pool) throws ReflectiveOperationException {
        var f = VolatilePool.class.getDeclaredField("file");
        f.setAccessible(true);
        return (TmpfsFile) f.get(pool);
    }

    @Test
    void theRestOfThePoolIsReservedInTheBackground() throws Exception {
        long size = 256L << 20;
        try (SmallTmpfs fs = SmallTmpfs.mount(320L << 20)) { // its own file system: /dev/shm is shared by the machine
            long free0 = fs.free();
            try (VolatilePool pool = VolatilePool.create("bg", fs.dir, size, BACKGROUND)) {
                TmpfsFile file = fileOf(pool);
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (file.reservedBytes() < size && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertEquals(size, file.reservedBytes());
                long used = free0 - fs.free();
                assertTrue(used >= size * 9 / 10, "the file system's space is taken: " + used);
            }
        }
    }

    @Test
    @Timeout(30)
    void theBackgroundWaitsWhileNothingGoesBeyondTheFirstPart() throws Exception {
        TmpfsFile.backgroundDelayNanos = 3_600_000_000_000L;
        try (VolatilePool pool = VolatilePool.create("bg", TestPools.SHM, 64L << 20, BACKGROUND)) {
            TmpfsFile file = fileOf(pool);
            long first = file.reservedBytes();
            long a = pool.malloc(4096); // within the first part
            Thread.sleep(300);
            assertEquals(first, file.reservedBytes(), "no reservation while the program stays in the first part");
            pool.free(a);
        }
    }

    @Test
    @Timeout(60)
    void anAllocationBeyondTheFirstPartStartsTheBackgroundAtOnce() throws Exception {
        TmpfsFile.backgroundDelayNanos = 3_600_000_000_000L;
        long size = 64L << 20;
        try (VolatilePool pool = VolatilePool.create("bg", TestPools.SHM, size, BACKGROUND)) {
            TmpfsFile file = fileOf(pool);
            long a = pool.malloc(8L << 20);
            assertNotEquals(0, a, MemoryPool.lastError());
            long deadline = System.nanoTime() + 50_000_000_000L;
            while (file.reservedBytes() < size && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(size, file.reservedBytes(), "the rest was reserved without waiting for the delay");
            pool.free(a);
        }
    }

    @Test
    void anAllocationBeyondTheReservedPartReservesItFirst() throws Exception {
        TmpfsFile.backgroundPaused = true;
        long size = 128L << 20;
        try (VolatilePool pool = VolatilePool.create("bg", TestPools.SHM, size, BACKGROUND)) {
            TmpfsFile file = fileOf(pool);
            long before = file.reservedBytes();
            assertTrue(before < size / 2, "only the first part is reserved at creation: " + before);
            long a = pool.malloc(96L << 20);
            assertNotEquals(0, a, MemoryPool.lastError());
            long end = a + (96L << 20) - file.address;
            assertTrue(file.reservedBytes() >= end, "reserved up to " + file.reservedBytes() + ", block ends at " + end);
            pool.segment(a).fill((byte) 7); // touching every page: no SIGBUS
            pool.free(a);
            assertTrue(pool.check().consistent());
        }
    }

    @Test
    @Timeout(60)
    void aFileSystemThatFillsUpMeanwhileFailsTheAllocationCleanly() throws Exception {
        Path dir = Files.createTempDirectory(TestPools.SHM, "jvmem-bg");
        try {
            // ENOSPC simulated once 40 MiB of the file are reserved: the background stops there
            TmpfsFile file = TmpfsFile.create(dir, 128L << 20, true, 40L << 20);
            try (VolatilePool pool = VolatilePool.onFile("bg", file, dir.toString(), BACKGROUND)) {
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (file.reservedBytes() < (32L << 20) && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertEquals(0, pool.malloc(96L << 20), "beyond the reservable part");
                assertEquals(PoolErrorReason.NO_SPACE, MemoryPool.lastErrorReason(), MemoryPool.lastError());
                long small = pool.malloc(1 << 20);
                assertNotEquals(0, small, "the reserved part still serves: " + MemoryPool.lastError());
                pool.free(small);
                assertTrue(pool.check().consistent());
            }
        } finally {
            Files.delete(dir);
        }
    }

    @Test
    @Timeout(60)
    void creationStillFailsAtOnceWhenTheFileSystemHasLessRoomThanThePool() throws Exception {
        try (SmallTmpfs fs = SmallTmpfs.mount(64L << 20)) {
            PoolException e = assertThrows(PoolException.class,
                    () -> VolatilePool.create("bg", fs.dir, 128L << 20, BACKGROUND));
            assertEquals(PoolErrorReason.NO_SPACE, e.reason(), e.getMessage());
            assertEquals(64L << 20, fs.free(), "nothing was taken");
        }
    }

    @Test
    void deletingWhileTheBackgroundReservesIsSafe() throws Exception {
        try (SmallTmpfs fs = SmallTmpfs.mount(576L << 20)) {
            long free0 = fs.free();
            for (int i = 0; i < 5; i++) {
                VolatilePool.create("bg", fs.dir, 512L << 20, BACKGROUND).delete();
            }
            Thread.sleep(200);
            assertEquals(free0, fs.free(), "every file's space is back");
        }
    }
}
