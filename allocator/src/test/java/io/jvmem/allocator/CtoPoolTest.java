package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Close-to-open pools (libpmemcto): contents survive a clean close; a pool left open refuses to open. */
@org.junit.jupiter.api.Tag("unit")
class CtoPoolTest {
    private static final String LAYOUT = "cto-test";
    @TempDir
    Path dir;

    @Test
    void contentsAndRootSurviveACleanClose() {
        Path file = dir.resolve("pool");
        long rootOffset;
        try (CtoPool pool = CtoPool.create(file, LAYOUT, 32L << 20)) {
            long root = pool.malloc(64);
            long data = pool.strdup("persistent hello");
            pool.segment(root).set(ValueLayout.JAVA_LONG, 0, data - root); // persistent references are offsets
            pool.setRoot(root);
            rootOffset = root - pool.allocator().base;
            for (int i = 0; i < 1000; i++) {
                pool.free(pool.malloc(100 + i)); // churn: the thread cache must be returned at close
            }
        }
        try (CtoPool pool = CtoPool.open(file, LAYOUT)) {
            long root = pool.root();
            assertEquals(rootOffset, root - pool.allocator().base);
            long data = root + pool.segment(root).get(ValueLayout.JAVA_LONG, 0);
            assertEquals("persistent hello", pool.segment(data).getString(0));
            assertTrue(pool.check().consistent(), pool.check().problems().toString());
            pool.free(data);
            assertThrows(InvalidFreeException.class, () -> pool.free(data));
        }
    }

    @Test
    void statisticsAfterReopenCountOnlyWhatIsLive() {
        Path file = dir.resolve("pool");
        try (CtoPool pool = CtoPool.create(file, LAYOUT, 32L << 20)) {
            for (int i = 0; i < 10; i++) {
                pool.malloc(5000);
            }
        }
        try (CtoPool pool = CtoPool.open(file, LAYOUT)) {
            assertEquals(PoolCheck.Status.CONSISTENT, pool.check().status());
            long a = pool.malloc(5000);
            assertNotEquals(0, a);
        }
    }

    @Test
    @Timeout(60)
    void aPoolLeftOpenIsRefused() throws Exception {
        Path file = dir.resolve("pool");
        CtoPool.create(file, LAYOUT, 16L << 20).close();
        CtoFiles.markDirty(file);
        PoolException e = assertThrows(PoolException.class, () -> CtoPool.open(file, LAYOUT));
        assertEquals(PoolErrorReason.NOT_CLOSED_CLEANLY, e.reason(), e.getMessage());
        assertEquals(PoolCheck.Status.INCONSISTENT, CtoPool.check(file, LAYOUT).status());
    }

    @Test
    void aPoolLeftOpenIsRecreatedWhenAsked() throws Exception {
        Path file = dir.resolve("pool");
        try (CtoPool pool = CtoPool.create(file, LAYOUT, 16L << 20)) {
            pool.setRoot(pool.malloc(100));
        }
        CtoFiles.markDirty(file);
        try (CtoPool pool = CtoPool.open(file, LAYOUT, true, PoolOptions.DEFAULT)) {
            assertEquals(0, pool.root());
            assertEquals(0, pool.stats().allocated());
            assertTrue(pool.check().consistent());
        }
        assertEquals(PoolCheck.Status.CONSISTENT, CtoPool.check(file, LAYOUT).status());
    }

    @Test
    @Timeout(60)
    void anExistingPoolOpensWithItsOwnSizeWhateverOpenOrCreateAsks() {
        Path file = dir.resolve("pool");
        try (CtoPool pool = CtoPool.create(file, LAYOUT, 32L << 20)) {
            pool.setRoot(pool.strdup("kept"));
        }
        for (boolean discardIfDirty : new boolean[] {false, true}) {
            try (CtoPool pool = CtoPool.openOrCreate(file, LAYOUT, 1L << 30, discardIfDirty, PoolOptions.DEFAULT)) {
                assertEquals(32L << 20, pool.size(), "the size is fixed when the pool is made; size() tells the caller");
                assertEquals("kept", pool.segment(pool.root()).getString(0));
            }
        }
    }

    @Test
    void anOpenPoolIsMarkedOpenOnMedia() throws Exception {
        Path file = dir.resolve("pool");
        try (CtoPool pool = CtoPool.create(file, LAYOUT, 16L << 20)) {
            assertEquals(PoolLayout.STATE_OPEN, CtoFiles.readLong(file, PoolLayout.OFF_STATE));
        }
        assertEquals(PoolLayout.STATE_CLOSED, CtoFiles.readLong(file, PoolLayout.OFF_STATE));
    }

    @Test
    @Timeout(60)
    void theLayoutNameMustMatch() {
        Path file = dir.resolve("pool");
        CtoPool.create(file, LAYOUT, 16L << 20).close();
        PoolException e = assertThrows(PoolException.class, () -> CtoPool.open(file, "other"));
        assertEquals(PoolErrorReason.LAYOUT, e.reason(), e.getMessage());
    }

    @Test
    @Timeout(60)
    void layoutNamesLongerThan1024BytesAreRefused() {
        String ok = "x".repeat(1024);
        CtoPool.create(dir.resolve("ok"), ok, 16L << 20).close();
        CtoPool.open(dir.resolve("ok"), ok).close();
        assertEquals(PoolErrorReason.BAD_ARGUMENT,
                assertThrows(PoolException.class, () -> CtoPool.create(dir.resolve("long"), ok + "x", 16L << 20)).reason());
    }

    @Test
    @Timeout(60)
    void poolsBelowSixteenMiBAreRefused() {
        PoolException e = assertThrows(PoolException.class, () -> CtoPool.create(dir.resolve("p"), LAYOUT, (16L << 20) - 1));
        assertEquals(PoolErrorReason.TOO_SMALL, e.reason(), e.getMessage());
        assertTrue(Files.notExists(dir.resolve("p")));
    }

    @Test
    void versionCheckAcceptsAnOlderMinorAndRefusesAnyOtherMajor() {
        assertNull(CtoPool.checkVersion(CtoPool.MAJOR_VERSION, 0));
        assertNull(CtoPool.checkVersion(CtoPool.MAJOR_VERSION, CtoPool.MINOR_VERSION));
        assertTrue(CtoPool.checkVersion(CtoPool.MAJOR_VERSION + 1, 0).contains("major version mismatch"));
        assertTrue(CtoPool.checkVersion(CtoPool.MAJOR_VERSION, CtoPool.MINOR_VERSION + 1).contains("minor version mismatch"));
    }

    @Test
    void aClosedPoolRefusesOperations() {
        CtoPool pool = CtoPool.create(dir.resolve("p"), LAYOUT, 16L << 20);
        long a = pool.malloc(10);
        pool.close();
        pool.close(); // second close is a no-op
        assertThrows(PoolClosedException.class, () -> pool.malloc(10));
        assertThrows(PoolClosedException.class, () -> pool.free(a));
        assertThrows(PoolClosedException.class, pool::root);
    }

    @Test
    void closeWaitsForOperationsInFlightAndThenRefusesNewOnes() throws Exception {
        Path file = dir.resolve("p");
        CtoPool pool = CtoPool.create(file, LAYOUT, 64L << 20);
        java.util.concurrent.atomic.AtomicLong done = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicReference<Throwable> unexpected = new java.util.concurrent.atomic.AtomicReference<>();
        Thread[] workers = new Thread[3];
        for (int t = 0; t < workers.length; t++) {
            workers[t] = new Thread(() -> {
                try {
                    while (true) {
                        long a = pool.malloc(1000);
                        if (a != 0) {
                            pool.free(a);
                        }
                        done.incrementAndGet();
                    }
                } catch (PoolClosedException expected) {
                    // the pool closed under us: the only way out
                } catch (Throwable e) {
                    unexpected.set(e);
                }
            });
            workers[t].start();
        }
        while (done.get() < 100_000) {
            Thread.sleep(5);
        }
        pool.close();
        for (Thread w : workers) {
            w.join(10_000);
        }
        assertNull(unexpected.get());
        assertEquals(PoolCheck.Status.CONSISTENT, CtoPool.check(file, LAYOUT).status(), CtoPool.check(file, LAYOUT).problems().toString());
    }

    @Test
    void setRootRefusesAnAddressThatIsNotALiveBlock() {
        try (CtoPool pool = CtoPool.create(dir.resolve("p"), LAYOUT, 16L << 20)) {
            long a = pool.malloc(100);
            assertThrows(InvalidFreeException.class, () -> pool.setRoot(a + 16));
            pool.setRoot(a);
            assertEquals(a, pool.root());
            pool.setRoot(0);
            assertEquals(0, pool.root());
        }
    }
}
