package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a pool path may be: a regular file, refused at once otherwise (never opened in blocking mode), reached only
 * through directories that nobody else can rearrange (ssh's StrictModes: no world-writable directory without the
 * sticky bit, on the way up to /).
 */
@org.junit.jupiter.api.Tag("unit")
class PoolPathsTest {
    private static final String LAYOUT = "paths";

    @TempDir
    Path dir;

    private Path fifo;

    @AfterEach
    void releaseFifo() {
        if (fifo != null) {
            // a reader stuck in a blocking open (the bug this guards against) is released by a writer; without a
            // reader a non-blocking open for writing fails with ENXIO at once
            int fd = Native.open(fifo.toString(), 01 /* O_WRONLY */ | Native.O_NONBLOCK | Native.O_CLOEXEC, 0);
            if (fd >= 0) {
                Native.close(fd);
            }
        }
    }

    private Path mkfifo() throws Exception {
        Path f = dir.resolve("fifo");
        Process p = new ProcessBuilder("mkfifo", f.toString()).inheritIO().start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "mkfifo failed");
        fifo = f;
        return f;
    }

    private static void assertReason(PoolErrorReason reason, Executable call) {
        PoolException e = assertThrows(PoolException.class, call);
        assertEquals(reason, e.reason(), e.getMessage());
    }

    private Path worldWritable(Path d) throws IOException {
        Files.createDirectories(d);
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxrwxrwx")); // 0777, no sticky bit
        return d;
    }

    private static void sticky(Path d) throws Exception {
        Process p = new ProcessBuilder("chmod", "1777", d.toString()).inheritIO().start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "chmod failed");
    }

    @Test
    @Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void checkOfAFifoIsRefusedAtOnce() throws Exception {
        PoolCheck c = CtoPool.check(mkfifo(), LAYOUT);
        assertEquals(PoolCheck.Status.NOT_CHECKED, c.status());
        assertEquals(PoolErrorReason.NOT_REGULAR_FILE, c.reason(), c.problems().toString());
    }

    @Test
    @Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void openAndOpenOrCreateOfAFifoAreRefusedAtOnce() throws Exception {
        Path f = mkfifo();
        assertReason(PoolErrorReason.NOT_REGULAR_FILE, () -> CtoPool.open(f, LAYOUT));
        assertReason(PoolErrorReason.NOT_REGULAR_FILE,
                () -> CtoPool.openOrCreate(f, LAYOUT, 16L << 20, true, PoolOptions.DEFAULT));
        assertTrue(Files.exists(f), "the FIFO is left as it was");
    }

    @Test
    @Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aDeviceIsNeverOpenedAsAPoolFile() {
        Path tty = Path.of("/dev/null");
        assertReason(PoolErrorReason.NOT_REGULAR_FILE, () -> CtoPool.open(tty, LAYOUT));
        assertEquals(PoolErrorReason.NOT_REGULAR_FILE, CtoPool.check(tty, LAYOUT).reason());
    }

    @Test
    @Timeout(30)
    void aCtoPoolInAWorldWritableDirectoryWithoutTheStickyBitIsRefused() throws Exception {
        Path open = dir.resolve("open");
        Files.createDirectory(open);
        Path file = open.resolve("pool");
        CtoPool.create(file, LAYOUT, 16L << 20).close();
        worldWritable(open);
        assertReason(PoolErrorReason.UNSAFE_PERMISSIONS, () -> CtoPool.open(file, LAYOUT));
        assertReason(PoolErrorReason.UNSAFE_PERMISSIONS, () -> CtoPool.create(open.resolve("other"), LAYOUT, 16L << 20));
        assertReason(PoolErrorReason.UNSAFE_PERMISSIONS,
                () -> CtoPool.openOrCreate(file, LAYOUT, 16L << 20, false, PoolOptions.DEFAULT));
        assertEquals(PoolErrorReason.UNSAFE_PERMISSIONS, CtoPool.check(file, LAYOUT).reason());
        assertTrue(Files.notExists(open.resolve("other")));
    }

    @Test
    @Timeout(30)
    void aCtoPoolBelowAWorldWritableDirectoryIsRefused() throws Exception {
        Path deep = dir.resolve("open/a/b");
        Files.createDirectories(deep);
        Path file = deep.resolve("pool");
        CtoPool.create(file, LAYOUT, 16L << 20).close();
        worldWritable(dir.resolve("open"));
        assertReason(PoolErrorReason.UNSAFE_PERMISSIONS, () -> CtoPool.open(file, LAYOUT));
        assertReason(PoolErrorReason.UNSAFE_PERMISSIONS, () -> CtoPool.create(deep.resolve("other"), LAYOUT, 16L << 20));
    }

    @Test
    @Timeout(30)
    void aSymbolicLinkInAWorldWritableDirectoryDoesNotHideIt() throws Exception {
        Path safe = Files.createDirectory(dir.resolve("safe"));
        Path open = worldWritable(dir.resolve("open"));
        Path link = Files.createSymbolicLink(open.resolve("link"), safe); // anyone could point it elsewhere
        assertReason(PoolErrorReason.UNSAFE_PERMISSIONS, () -> CtoPool.create(link.resolve("pool"), LAYOUT, 16L << 20));
        assertReason(PoolErrorReason.UNSAFE_PERMISSIONS, () -> VolatilePool.create("v", link, 16L << 20));
        Path target = Files.createDirectory(open.resolve("target"));
        Path safeLink = Files.createSymbolicLink(safe.resolve("to-open"), target); // a safe link into an open directory
        assertReason(PoolErrorReason.UNSAFE_PERMISSIONS, () -> CtoPool.create(safeLink.resolve("pool"), LAYOUT, 16L << 20));
        assertReason(PoolErrorReason.UNSAFE_PERMISSIONS, () -> VolatilePool.create("v", safeLink, 16L << 20));
    }

    @Test
    @Timeout(30)
    void aVolatilePoolInOrBelowAWorldWritableDirectoryIsRefused() throws Exception {
        Path open = worldWritable(dir.resolve("open"));
        assertReason(PoolErrorReason.UNSAFE_PERMISSIONS, () -> VolatilePool.create("v", open, 16L << 20));
        Path below = Files.createDirectories(open.resolve("a/b"));
        assertReason(PoolErrorReason.UNSAFE_PERMISSIONS, () -> VolatilePool.create("v", below, 16L << 20));
        Path shm = Files.createTempDirectory(TestPools.SHM, "jvmem-open");
        try {
            worldWritable(shm); // the tmpfs path (no linker) checks the same
            assertReason(PoolErrorReason.UNSAFE_PERMISSIONS, () -> VolatilePool.create("v", shm, 16L << 20));
        } finally {
            Files.delete(shm);
        }
    }

    @Test
    @Timeout(30)
    void aStickyWorldWritableDirectoryIsAccepted() throws Exception {
        Path shared = Files.createDirectory(dir.resolve("shared"));
        sticky(shared); // as /tmp and /dev/shm: only an entry's owner can replace it
        Path file = shared.resolve("pool");
        CtoPool.create(file, LAYOUT, 16L << 20).close();
        CtoPool.open(file, LAYOUT).close();
        assertEquals(PoolCheck.Status.CONSISTENT, CtoPool.check(file, LAYOUT).status());
        VolatilePool.create("v", shared, 16L << 20).delete();
    }
}
