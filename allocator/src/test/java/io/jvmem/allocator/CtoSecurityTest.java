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
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Files a close-to-open pool must not trust, and the exclusive lock. */
@org.junit.jupiter.api.Tag("unit")
class CtoSecurityTest {
    private static final String LAYOUT = "sec";
    @TempDir
    Path dir;

    private Path closedPool() {
        Path file = dir.resolve("pool");
        CtoPool.create(file, LAYOUT, 16L << 20).close();
        return file;
    }

    private static void assertRefused(Path file, PoolErrorReason why) {
        PoolException e = assertThrows(PoolException.class, () -> CtoPool.open(file, LAYOUT));
        assertEquals(why, e.reason(), e.getMessage());
    }

    @Test
    void createsFilesWithModeSixHundred() throws Exception {
        Path file = closedPool();
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    @Timeout(60)
    void createNeverReusesAnExistingFile() throws Exception {
        Path file = dir.resolve("exists");
        Files.writeString(file, "precious");
        PoolException e = assertThrows(PoolException.class, () -> CtoPool.create(file, LAYOUT, 16L << 20));
        assertEquals(PoolErrorReason.EXISTS, e.reason(), e.getMessage());
        assertEquals("precious", Files.readString(file), "nothing is lost");
    }

    @Test
    @Timeout(60)
    void createNeverFollowsASymlink() throws Exception {
        Path target = dir.resolve("target");
        Path link = Files.createSymbolicLink(dir.resolve("link"), target);
        assertEquals(PoolErrorReason.EXISTS, // the link's name is taken: O_CREAT|O_EXCL never follows it
                assertThrows(PoolException.class, () -> CtoPool.create(link, LAYOUT, 16L << 20)).reason());
        assertTrue(Files.notExists(target));
    }

    @Test
    @Timeout(60)
    void createRefusesAModeOthersCouldWrite() {
        PoolException e = assertThrows(PoolException.class,
                () -> CtoPool.create(dir.resolve("p"), LAYOUT, 16L << 20, 0660, PoolOptions.DEFAULT));
        assertEquals(PoolErrorReason.UNSAFE_PERMISSIONS, e.reason(), e.getMessage());
    }

    @Test
    @Timeout(60)
    void openRefusesASymlink() throws Exception {
        Path file = closedPool();
        Path link = Files.createSymbolicLink(dir.resolve("link"), file);
        assertRefused(link, PoolErrorReason.SYMLINK);
    }

    @Test
    @Timeout(60)
    void openRefusesAFileWritableByGroup() throws Exception {
        Path file = closedPool();
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw----"));
        assertRefused(file, PoolErrorReason.UNSAFE_PERMISSIONS);
    }

    @Test
    @Timeout(60)
    void openRefusesAFileWritableByOthers() throws Exception {
        Path file = closedPool();
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw----rw-"));
        assertRefused(file, PoolErrorReason.UNSAFE_PERMISSIONS);
    }

    @Test
    @Timeout(60)
    void openRefusesAFileOwnedByAnotherUser() throws Exception {
        Path file = closedPool();
        Process chown = new ProcessBuilder("chown", "12345", file.toString()).redirectErrorStream(true).start();
        Assumptions.assumeTrue(chown.waitFor(10, TimeUnit.SECONDS) && chown.exitValue() == 0, "chown needs root");
        assertRefused(file, PoolErrorReason.UNSAFE_PERMISSIONS);
    }

    @Test
    @Timeout(60)
    void openRefusesADirectory() throws Exception {
        Path d = Files.createDirectory(dir.resolve("d"));
        assertRefused(d, PoolErrorReason.NOT_REGULAR_FILE);
    }

    @Test
    @Timeout(60)
    void aSecondOpenInTheSameProcessFails() {
        Path file = closedPool();
        try (CtoPool first = CtoPool.open(file, LAYOUT)) {
            assertRefused(file, PoolErrorReason.LOCKED);
        }
        CtoPool.open(file, LAYOUT).close(); // the lock goes with the close
    }

    @Test
    @Timeout(60)
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
            assertEquals(PoolErrorReason.LOCKED, refused.reason(), refused.getMessage());
        } finally {
            holder.destroyForcibly().waitFor();
        }
    }
}
