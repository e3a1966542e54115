package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A damaged pool file is refused or reported, never a JVM crash. */
@org.junit.jupiter.api.Tag("unit")
class CtoCorruptionTest {
    private static final String LAYOUT = "corrupt";
    @TempDir
    Path dir;

    private Path populatedPool() {
        Path file = dir.resolve("pool");
        try (CtoPool pool = CtoPool.create(file, LAYOUT, 16L << 20)) {
            Random r = new Random(5);
            long root = 0;
            for (int i = 0; i < 400; i++) {
                long a = pool.malloc(1 + r.nextInt(i % 9 == 0 ? 300_000 : 4000));
                if (r.nextInt(3) == 0) {
                    pool.free(a);
                } else {
                    root = a;
                }
            }
            pool.setRoot(root);
        }
        return file;
    }

    @Test
    void everySingleByteFlipOfTheHeaderIsRefused() throws Exception {
        Path file = populatedPool();
        for (long off = 0; off < PoolLayout.HEADER_BYTES; off++) {
            byte b = CtoFiles.read(file, off);
            CtoFiles.write(file, off, (byte) ~b);
            try {
                CtoPool.open(file, LAYOUT).close();
                throw new AssertionError("opened a pool whose header byte " + off + " was flipped");
            } catch (PoolException expected) {
                assertNotEquals(PoolCheck.Status.CONSISTENT, CtoPool.check(file, LAYOUT).status());
            }
            CtoFiles.write(file, off, b);
        }
        CtoPool.open(file, LAYOUT).close();
    }

    @Test
    void randomBytesOfMetadataOverwrittenAreRefusedOrReported() throws Exception {
        Path file = populatedPool();
        PoolLayout layout = PoolLayout.compute(16L << 20);
        Random r = new Random(9);
        for (int round = 0; round < 300; round++) {
            int n = 1 + r.nextInt(8);
            long[] offs = new long[n];
            byte[] saved = new byte[n];
            for (int i = 0; i < n; i++) {
                offs[i] = layout.pageMapOffset + (long) (r.nextDouble() * (layout.heapOffset - layout.pageMapOffset));
                saved[i] = CtoFiles.read(file, offs[i]);
                CtoFiles.write(file, offs[i], (byte) r.nextInt(256));
            }
            boolean changed = false;
            for (int i = 0; i < n; i++) {
                changed |= CtoFiles.read(file, offs[i]) != saved[i];
            }
            try {
                CtoPool pool = CtoPool.open(file, LAYOUT);
                try {
                    assertTrue(!changed || !pool.check().consistent(), "damaged metadata went unnoticed in round " + round);
                } finally {
                    pool.close();
                }
            } catch (PoolException refused) {
                assertTrue(changed, "an intact pool was refused: " + refused.getMessage());
                assertEquals(PoolCheck.Status.INCONSISTENT, CtoPool.check(file, LAYOUT).status());
            }
            for (int i = n - 1; i >= 0; i--) {
                CtoFiles.write(file, offs[i], saved[i]);
            }
            if (changed) {
                CtoFiles.markDirty(file); // the pool may have been closed over the damage: start it afresh
                CtoPool.open(file, LAYOUT, true, PoolOptions.DEFAULT).close();
                file = repopulate(file);
            }
        }
    }

    private Path repopulate(Path file) {
        java.nio.file.Path fresh = dir.resolve("pool");
        try {
            java.nio.file.Files.delete(fresh);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        return populatedPool();
    }

    @Test
    @Timeout(60)
    void aTruncatedFileIsRefused() throws Exception {
        Path file = populatedPool();
        try (var fc = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            fc.truncate(8L << 20);
        }
        PoolException e = org.junit.jupiter.api.Assertions.assertThrows(PoolException.class, () -> CtoPool.open(file, LAYOUT));
        assertEquals(PoolErrorReason.SIZE_MISMATCH, e.reason(), e.getMessage());
    }

    @Test
    @Timeout(60)
    void aForeignFileIsRefused() throws Exception {
        Path file = dir.resolve("foreign");
        byte[] bytes = new byte[1 << 20];
        new Random(1).nextBytes(bytes);
        java.nio.file.Files.write(file, bytes);
        java.nio.file.Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        PoolException e = org.junit.jupiter.api.Assertions.assertThrows(PoolException.class, () -> CtoPool.open(file, LAYOUT));
        assertEquals(PoolErrorReason.NOT_A_POOL, e.reason(), e.getMessage());
        java.nio.file.Files.write(file, new byte[1 << 20]); // zeros: nothing tells it from a pool never formatted
        e = org.junit.jupiter.api.Assertions.assertThrows(PoolException.class, () -> CtoPool.open(file, LAYOUT));
        assertEquals(PoolErrorReason.UNFORMATTED, e.reason(), e.getMessage());
        assertEquals(1 << 20, java.nio.file.Files.size(file), "a file that is not a pool is left as it was");
    }
}
