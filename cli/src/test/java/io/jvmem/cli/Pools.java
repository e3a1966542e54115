package io.jvmem.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvmem.allocator.CtoPool;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.StringWriter;
import java.io.PrintWriter;
import java.nio.channels.FileChannel;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;

/** The three pool files every verb is tried on, and running the CLI in this JVM. */
final class Pools {
    static final String LAYOUT = "cli-test";
    static final String ROOT_TEXT = "jvmem root block";

    private Pools() {
    }

    record Run(int exit, String out, String err) {
    }

    static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = JvmemCli.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** A cleanly closed pool: a 4 KiB root holding {@link #ROOT_TEXT}, 10 blocks of 1000 bytes and one of 100 KiB. */
    static Path healthy(Path dir) {
        Path file = dir.resolve("healthy.pool");
        try (CtoPool pool = CtoPool.create(file, LAYOUT, 16L << 20)) {
            long root = pool.calloc(1, 4096);
            pool.segment(root).setString(0, ROOT_TEXT);
            pool.setRoot(root);
            for (int i = 0; i < 10; i++) {
                pool.malloc(1000);
            }
            pool.malloc(100 * 1024);
        }
        return file;
    }

    /** A healthy pool then opened by another JVM that is killed with SIGKILL while it allocates: left open. */
    static Path killed(Path dir) throws Exception {
        Path file = healthy(dir);
        Path moved = dir.resolve("killed.pool");
        Files.move(file, moved);
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "sample.cli.HoldPool",
                "cto", moved.toString(), LAYOUT).redirectErrorStream(true).start();
        try {
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("ready", r.readLine());
        } finally {
            p.destroyForcibly(); // SIGKILL
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
        assertEquals(137, p.exitValue());
        return moved;
    }

    /** A healthy pool whose first page-map entry was overwritten (its checksums left stale). */
    static Path corrupted(Path dir) throws Exception {
        Path file = healthy(dir);
        Path moved = dir.resolve("corrupted.pool");
        Files.move(file, moved);
        long pageMap;
        try (FileChannel ch = FileChannel.open(moved, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer h = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            ch.read(h, 32);
            pageMap = h.flip().getLong();
            ByteBuffer junk = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0x7ff0_0000_0000_00feL).flip();
            ch.write(junk, pageMap);
        }
        assertTrue(pageMap > 0);
        return moved;
    }

    static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
