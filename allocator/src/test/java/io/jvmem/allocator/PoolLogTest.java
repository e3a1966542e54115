package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** PMEMCTO_LOG_LEVEL / PMEMCTO_LOG_FILE and jvmem.log.level / jvmem.log.file, onto System.Logger or a file. */
@org.junit.jupiter.api.Tag("unit")
class PoolLogTest {
    @TempDir
    Path dir;

    @AfterEach
    void restore() {
        LogPolicy.fromProcess().install();
    }

    private static String read(Path p) throws IOException {
        return Files.exists(p) ? Files.readString(p) : "";
    }

    /** A pool created, an overflowing mallocArray (an error), and a short wait for memory. */
    private static void operations() {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL)) {
            pool.mallocArray(Long.MAX_VALUE, 2);
            pool.malloc(pool.stats().largestFree());
            pool.malloc(1 << 20, MallocFlags.waitOk(Duration.ofMillis(20)));
        }
    }

    @Test
    @Timeout(60)
    void levelZeroLogsNothing() throws IOException {
        Path f = dir.resolve("log");
        LogPolicy.of(0, f.toString()).install();
        operations();
        assertFalse(Files.exists(f));
    }

    @Test
    @Timeout(60)
    void aFifoAsTheLogFileIsRefusedAndTheMessagesGoToThePlatformLogger() throws Exception {
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor(), "mkfifo");
        LogPolicy.of(2, fifo.toString()).install();
        operations(); // before: blocked for ever opening the FIFO for writing, with no reader
        assertTrue(Files.exists(fifo) && !Files.isRegularFile(fifo), "the FIFO is left as it was");
    }

    @Test
    @Timeout(60)
    void levelOneLogsErrorDetailsOnly() throws IOException {
        Path f = dir.resolve("log");
        LogPolicy.of(1, f.toString()).install();
        operations();
        String log = read(f);
        assertTrue(log.contains("ERROR jvmem: OVERFLOW: mallocArray: 9223372036854775807 × 2 overflows"), log);
        assertFalse(log.contains(" INFO "), log);
        assertFalse(log.contains(" DEBUG "), log);
    }

    @Test
    @Timeout(60)
    void levelOneLogsARefusedOpen() throws IOException {
        Path f = dir.resolve("log");
        LogPolicy.of(1, f.toString()).install();
        Path missing = dir.resolve("no-such.pool");
        org.junit.jupiter.api.Assertions.assertThrows(PoolException.class, () -> CtoPool.open(missing, "x"));
        assertTrue(read(f).contains("ERROR jvmem: NOT_FOUND: "), read(f));
    }

    @Test
    @Timeout(60)
    void levelTwoAddsATraceOfPoolCreation() throws IOException {
        Path f = dir.resolve("log");
        LogPolicy.of(2, f.toString()).install();
        operations();
        String log = read(f);
        assertTrue(log.contains("INFO jvmem: volatile pool test at "), log);
        assertTrue(log.contains("INFO jvmem: pool test closed"), log);
        assertFalse(log.contains(" DEBUG "), log);
    }

    @Test
    @Timeout(60)
    void levelThreeAddsVerboseTracingOfWaits() throws IOException {
        Path f = dir.resolve("log");
        LogPolicy.of(3, f.toString()).install();
        operations();
        assertTrue(read(f).contains("DEBUG jvmem: pool test: waiting up to "), read(f));
        assertTrue(read(f).contains("DEBUG jvmem: pool test: mallocArray(9223372036854775807, 2) = 0x0"), read(f));
    }

    @Test
    @Timeout(60)
    void withoutAFileMessagesGoToThePlatformLogger() {
        java.util.logging.Logger jul = java.util.logging.Logger.getLogger("io.jvmem");
        java.util.List<java.util.logging.LogRecord> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler h = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                seen.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        jul.addHandler(h);
        try {
            LogPolicy.of(1, null).install();
            try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL)) {
                pool.mallocArray(Long.MAX_VALUE, 2);
            }
            assertTrue(seen.stream().anyMatch(r -> r.getLevel() == java.util.logging.Level.SEVERE
                    && r.getMessage().startsWith("OVERFLOW: mallocArray")), seen.toString());
        } finally {
            jul.removeHandler(h);
        }
    }

    @Test
    @Timeout(60)
    void aLogFileEndingInADashGetsThePidAppended() throws IOException {
        LogPolicy.of(1, dir.resolve("jvmem-").toString()).install();
        operations();
        Path f = dir.resolve("jvmem-" + ProcessHandle.current().pid());
        assertTrue(read(f).contains("OVERFLOW"), read(f));
        assertFalse(Files.exists(dir.resolve("jvmem-")));
    }

    @Test
    @Timeout(60)
    void thePropertiesWinOverTheEnvironmentVariables() {
        Properties props = new Properties();
        props.setProperty("jvmem.log.level", "3");
        props.setProperty("jvmem.log.file", "/tmp/j-");
        LogPolicy p = LogPolicy.from(Map.of("PMEMCTO_LOG_LEVEL", "1", "PMEMCTO_LOG_FILE", "/tmp/e"), props);
        assertEquals(3, p.level());
        assertEquals("/tmp/j-", p.file().orElseThrow());
        LogPolicy e = LogPolicy.from(Map.of("PMEMCTO_LOG_LEVEL", "2", "PMEMCTO_LOG_FILE", "/tmp/e-"), new Properties());
        assertEquals(2, e.level());
        assertEquals(Path.of("/tmp/e-77"), e.resolvedFile(77).orElseThrow());
    }

    @Test
    @Timeout(60)
    void aLevelOutsideZeroToFourIsIgnored() {
        LogPolicy p = LogPolicy.from(Map.of("PMEMCTO_LOG_LEVEL", "7"), new Properties());
        assertEquals(0, p.level());
        assertFalse(p.levelGiven());
    }

    @Test
    @Timeout(60)
    void errorsOfAQuietedReasonAreNotLoggedAndOthersStillAre() throws IOException {
        String all = loggedBy(LogPolicy.of(2, dir.resolve("all").toString()));
        assertTrue(all.contains("OUT_OF_MEMORY"), "the operations do fill the pool: " + all);
        LogPolicy p = LogPolicy.of(2, dir.resolve("quiet").toString()).withoutErrorDetailsFor(PoolErrorReason.OUT_OF_MEMORY);
        assertFalse(p.withLevel(2).logsErrorsOf(PoolErrorReason.OUT_OF_MEMORY), "withLevel keeps the quieted reasons");
        String log = loggedBy(p); // an overflow (logged) and a full pool (not)
        assertTrue(log.contains("OVERFLOW"), log);
        assertFalse(log.contains("OUT_OF_MEMORY"), log);
        assertTrue(log.contains("INFO jvmem: volatile pool"), "the level's trace stays: " + log);
    }

    /** What {@link #operations} log under {@code p}, whose file must be given. */
    private static String loggedBy(LogPolicy p) throws IOException {
        p.install();
        operations();
        return read(Path.of(p.file().orElseThrow()));
    }
}
