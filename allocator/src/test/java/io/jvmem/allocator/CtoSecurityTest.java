package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files a close-to-open pool must not trust, and the exclusive lock. */
class CtoSecurityTest {
    private static final String LAYOUT = "sec";
    @TempDir
    Path dir;

    private Path closedPool() {
        Path file = dir.resolve("pool");
        CtoPool.create(file, LAYOUT, 16L << 20).close();
        return file;
    }

    private static void assertRefused(Path file, String why) {
        PoolException e = assertThrows(PoolException.class, () -> CtoPool.open(file, LAYOUT));
        assertTrue(e.getMessage().contains(why), e.getMessage());
    }

    @Test
    void createsFilesWithModeSixHundred() throws Exception {
        Path file = closedPool();
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    void createNeverReusesAnExistingFile() throws Exception {
        Path file = dir.resolve("exists");
        Files.writeString(file, "precious");
        PoolException e = assertThrows(PoolException.class, () -> CtoPool.create(file, LAYOUT, 16L << 20));
        assertTrue(e.getMessage().contains("exists"), e.getMessage());
        assertEquals("precious", Files.readString(file), "nothing is lost");
    }

    @Test
    void createNeverFollowsASymlink() throws Exception {
        Path target = dir.resolve("target");
        Path link = Files.createSymbolicLink(dir.resolve("link"), target);
        assertThrows(PoolException.class, () -> CtoPool.create(link, LAYOUT, 16L << 20));
        assertTrue(Files.notExists(target));
    }

    @Test
    void createRefusesAModeOthersCouldWrite() {
        PoolException e = assertThrows(PoolException.class,
                () -> CtoPool.create(dir.resolve("p"), LAYOUT, 16L << 20, 0660, PoolOptions.DEFAULT));
        assertTrue(e.getMessage().contains("group or others"), e.getMessage());
    }

    @Test
    void openRefusesASymlink() throws Exception {
        Path file = closedPool();
        Path link = Files.createSymbolicLink(dir.resolve("link"), file);
        assertRefused(link, "symbolic link");
    }

    @Test
    void openRefusesAFileWritableByGroup() throws Exception {
        Path file = closedPool();
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw----"));
        assertRefused(file, "writable by group or others");
    }

    @Test
    void openRefusesAFileWritableByOthers() throws Exception {
        Path file = closedPool();
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw----rw-"));
        assertRefused(file, "writable by group or others");
    }

    @Test
    void openRefusesAFileOwnedByAnotherUser() throws Exception {
        Path file = closedPool();
        Process chown = new ProcessBuilder("chown", "12345", file.toString()).redirectErrorStream(true).start();
        Assumptions.assumeTrue(chown.waitFor(10, TimeUnit.SECONDS) && chown.exitValue() == 0, "chown needs root");
        assertRefused(file, "owned by uid 12345");
    }

    @Test
    void openRefusesADirectory() throws Exception {
        Path d = Files.createDirectory(dir.resolve("d"));
        assertThrows(PoolException.class, () -> CtoPool.open(d, LAYOUT));
    }

    @Test
    void aSecondOpenInTheSameProcessFails() {
        Path file = closedPool();
        try (CtoPool first = CtoPool.open(file, LAYOUT)) {
            assertRefused(file, "already open");
        }
        CtoPool.open(file, LAYOUT).close(); // the lock goes with the close
    }

    @Test
    void anOpenInAnotherProcessBlocksThisOne() throws Exception {
        Path file = closedPool();
        Process holder = new ProcessBuilder("flock", "-x", file.toString(), "sleep", "30").start();
        try {
            long deadline = System.nanoTime() + 10_000_000_000L;
            PoolException refused = null;
            while (refused == null && System.nanoTime() < deadline) {
                try {
                    CtoPool.open(file, LAYOUT).close(); // the other process has not taken the lock yet
                    Thread.sleep(20);
                } catch (PoolException e) {
                    refused = e;
                }
            }
            Assumptions.assumeTrue(refused != null, "flock(1) did not take the lock");
            assertTrue(refused.getMessage().contains("already open"), refused.getMessage());
        } finally {
            holder.destroyForcibly().waitFor();
        }
    }
}
