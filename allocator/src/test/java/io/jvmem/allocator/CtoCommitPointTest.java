package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The header's state word is the single-store commit point: whatever instant a process dies at, the pool is either
 * closed cleanly or refused as not closed cleanly (or, killed during create, has no magic yet).
 */
@org.junit.jupiter.api.Tag("unit")
class CtoCommitPointTest {
    private static final String LAYOUT = "commit";
    private static final long SIZE = 16L << 20;
    @TempDir
    Path dir;

    private static PoolErrorReason refusal(Path file) {
        return assertThrows(PoolException.class, () -> CtoPool.open(file, LAYOUT)).reason();
    }

    private static void assertRecreated(Path file) {
        try (CtoPool pool = CtoPool.openOrCreate(file, LAYOUT, SIZE, true, PoolOptions.DEFAULT)) {
            assertEquals(0, pool.root());
            assertTrue(pool.check().consistent(), pool.check().problems().toString());
        }
        assertEquals(PoolCheck.Status.CONSISTENT, CtoPool.check(file, LAYOUT).status());
    }

    @Test
    @Timeout(60)
    void aHeaderTornWhileOpenIsNotClosedCleanlyAndTornWhileClosedIsCorrupted() throws Exception {
        Path file = dir.resolve("pool");
        CtoPool.create(file, LAYOUT, SIZE).close();
        byte b = CtoFiles.read(file, PoolLayout.OFF_ROOT);
        CtoFiles.write(file, PoolLayout.OFF_ROOT, (byte) (b ^ 0x40)); // a field changed, its checksum not yet
        assertEquals(PoolErrorReason.CORRUPT, refusal(file));
        CtoFiles.markDirty(file); // the state word alone: killed inside setRoot, or between seal and the commit
        assertEquals(PoolErrorReason.NOT_CLOSED_CLEANLY, refusal(file));
        assertRecreated(file);
    }

    @Test
    @Timeout(60)
    void storingClosedOverASealedHeaderIsTheWholeCommit() throws Exception {
        Path file = dir.resolve("pool");
        CtoPool.create(file, LAYOUT, SIZE).close();
        CtoFiles.markDirty(file);
        assertEquals(PoolErrorReason.NOT_CLOSED_CLEANLY, refusal(file));
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(PoolLayout.OFF_STATE);
            f.write(new byte[] {0x44, 0x45, 0x53, 0x4f, 0x4c, 0x43, 0, 0}); // "CLOSED", little endian
        }
        CtoPool.open(file, LAYOUT).close();
    }

    @Test
    @Timeout(60)
    void aFileWhoseCreationWasKilledHasNoMagicAndIsRecreatedOnlyWhenAsked() throws Exception {
        for (int variant = 0; variant < 3; variant++) {
            Path file = dir.resolve("pool" + variant);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            if (variant > 0) { // killed while reserving space (variant 1) or while writing the header (variant 2)
                try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                    f.setLength(SIZE / 2);
                }
            }
            if (variant == 2) {
                CtoFiles.markDirty(file); // create's first store: state OPEN
                CtoFiles.write(file, PoolLayout.OFF_MAJOR, (byte) PoolLayout.MAJOR);
            }
            assertEquals(PoolErrorReason.UNFORMATTED, refusal(file));
            assertEquals(PoolErrorReason.UNFORMATTED, assertThrows(PoolException.class,
                    () -> CtoPool.openOrCreate(file, LAYOUT, SIZE, false, PoolOptions.DEFAULT)).reason());
            assertRecreated(file);
            assertEquals(SIZE, Files.size(file));
        }
    }

    @Test
    @Timeout(60)
    void aFileWithoutMagicThatCreateCannotHaveLeftIsNeverRecreated() throws Exception {
        Path shared = dir.resolve("readable");
        Files.createFile(shared, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));
        Path data = dir.resolve("data");
        Files.createFile(data, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(data, new byte[] {1, 2, 3});
        assertEquals(PoolErrorReason.UNFORMATTED, assertThrows(PoolException.class, // empty, but not as create makes it
                () -> CtoPool.openOrCreate(shared, LAYOUT, SIZE, true, PoolOptions.DEFAULT)).reason());
        assertEquals(PoolErrorReason.NOT_A_POOL, assertThrows(PoolException.class,
                () -> CtoPool.openOrCreate(data, LAYOUT, SIZE, true, PoolOptions.DEFAULT)).reason());
        assertEquals(3, Files.size(data));
    }
}
