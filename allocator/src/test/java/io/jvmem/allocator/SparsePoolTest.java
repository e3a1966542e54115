package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A closed pool copied sparse ({@code cp --sparse=always}) onto a tmpfs that is then full: reading its holes through a
 * mapping would need pages the file system cannot give (SIGBUS, which kills the JVM). Opening must refuse it cleanly
 * and leave it unchanged; the offline check reads it without a mapping. Run in a forked JVM, so that a SIGBUS shows as
 * that JVM's crash instead of killing the test's.
 */
@org.junit.jupiter.api.Tag("unit")
class SparsePoolTest {
    private static final String LAYOUT = "sparse";
    private static final long SIZE = 32L << 20;

    @TempDir
    Path dir;

    private record Run(int exit, List<String> lines) {
    }

    private Run child(Path pool) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Xshare:auto",
                "-XX:ErrorFile=" + dir.resolve("hs_err_%p.log"), // a crash report, if any, goes with the test's files
                "-cp", System.getProperty("java.class.path"), SparsePoolChild.class.getName(), pool.toString(), LAYOUT)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child hung");
        return new Run(p.exitValue(), out.lines().toList());
    }

    private Path closedPoolWithData() {
        Path file = dir.resolve("pool");
        try (CtoPool pool = CtoPool.create(file, LAYOUT, SIZE)) {
            pool.setRoot(pool.strdup("kept across the copy"));
        }
        return file;
    }

    @Test
    @Timeout(180)
    void aSparseCopyOnAFullTmpfsIsRefusedCleanlyAndLeftUnchanged() throws Exception {
        Path original = closedPoolWithData();
        try (SmallTmpfs fs = SmallTmpfs.mount(SIZE + (16L << 20))) {
            Path copy = fs.dir.resolve("pool");
            long free0 = fs.free();
            Process cp = new ProcessBuilder("cp", "--sparse=always", original.toString(), copy.toString()).inheritIO().start();
            assertTrue(cp.waitFor(30, TimeUnit.SECONDS) && cp.exitValue() == 0, "cp failed");
            assertTrue(free0 - fs.free() < SIZE / 2, "the copy is sparse: it took " + (free0 - fs.free()) + " bytes");
            Path filler = fs.fill(0);

            Run r = child(copy);
            assertEquals(0, r.exit(), "the JVM must survive (134 or 135 is a crash: SIGBUS): " + r.lines());
            assertEquals("OPEN NO_SPACE", r.lines().get(0), r.lines().toString());
            assertTrue(r.lines().contains("CHECK CONSISTENT NONE"), r.lines().toString());
            assertEquals(SIZE, Files.size(copy), "the file keeps its size");
            assertEquals(-1, Files.mismatch(original, copy), "and every byte");

            Files.delete(filler); // with room for its holes, the same file opens with its data
            try (CtoPool pool = CtoPool.open(copy, LAYOUT)) {
                assertEquals("kept across the copy", pool.segment(pool.root()).getString(0));
                assertTrue(pool.check().consistent(), pool.check().problems().toString());
            }
        }
    }
}
