package io.jvmem.cli;

import static io.jvmem.cli.Pools.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvmem.allocator.CtoPool;
import io.jvmem.allocator.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Every verb on a healthy pool, a pool left open by SIGKILL and a corrupted pool; the read-only verbs change no byte. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
@org.junit.jupiter.api.Tag("unit")
class CliTest {
    @TempDir
    static Path shared;
    static Path healthy;
    static Path killed;
    static Path corrupted;

    @TempDir
    Path dir;

    @BeforeAll
    static void pools() throws Exception {
        healthy = Pools.healthy(Files.createDirectory(shared.resolve("h")));
        killed = Pools.killed(Files.createDirectory(shared.resolve("k")));
        corrupted = Pools.corrupted(Files.createDirectory(shared.resolve("c")));
    }

    /** Runs a read-only verb and checks that the file is byte for byte as before. */
    private static Pools.Run readOnly(Path file, String... args) throws Exception {
        String before = Pools.sha256(file);
        Pools.Run r = cli(args);
        assertEquals(before, Pools.sha256(file), "the file changed: " + String.join(" ", args));
        return r;
    }

    @Test
    void infoShowsTheHeaderOfEachPoolAsItIs() throws Exception {
        Pools.Run h = readOnly(healthy, "info", healthy.toString());
        assertEquals(0, h.exit(), h.toString());
        assertTrue(h.out().contains("layout:          cli-test\n"), h.out());
        assertTrue(h.out().contains("state:           closed\n"), h.out());
        assertTrue(h.out().contains("size:            " + (16L << 20) + "\n"), h.out());
        assertTrue(h.out().contains("header checksum: ok\n"), h.out());
        Pools.Run k = readOnly(killed, "info", killed.toString());
        assertEquals(0, k.exit(), k.toString());
        assertTrue(k.out().contains("state:           open (not closed cleanly)\n"), k.out());
        Pools.Run c = readOnly(corrupted, "info", "--json", corrupted.toString());
        assertEquals(0, c.exit(), c.toString());
        Map<?, ?> j = (Map<?, ?>) Json.parse(c.out());
        assertEquals("closed", j.get("state"));
        assertEquals("cto", j.get("kind"));
        assertEquals(Boolean.TRUE, j.get("magic"));
    }

    @Test
    void checkExitsZeroOneOrTwo() throws Exception {
        Pools.Run h = readOnly(healthy, "check", healthy.toString());
        assertEquals(0, h.exit(), h.toString());
        assertEquals(healthy + ": consistent\n", h.out());
        Pools.Run k = readOnly(killed, "check", killed.toString());
        assertEquals(1, k.exit(), k.toString());
        assertTrue(k.out().contains("not closed cleanly"), k.out());
        Pools.Run c = readOnly(corrupted, "check", corrupted.toString());
        assertEquals(1, c.exit(), c.toString());
        assertTrue(c.out().startsWith(corrupted + ": inconsistent\n"), c.out());
        Path notAPool = Files.writeString(dir.resolve("short"), "hello");
        Pools.Run n = cli("check", notAPool.toString());
        assertEquals(2, n.exit(), n.toString());
        assertEquals(2, cli("check", dir.resolve("absent").toString()).exit());
    }

    @Test
    void statsWalksTheFileAsTextOrJson() throws Exception {
        Pools.Run h = readOnly(healthy, "stats", healthy.toString());
        assertEquals(0, h.exit(), h.toString());
        assertTrue(h.out().startsWith("___ Begin jvmem statistics ___\nPool file: "), h.out());
        assertTrue(h.out().contains(" in 12 blocks"), h.out());
        Pools.Run hj = readOnly(healthy, "stats", "--json", healthy.toString());
        Map<?, ?> s = (Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) Json.parse(hj.out())).get("jvmem")).get("stats");
        assertEquals(12L, s.get("blocks"));
        assertEquals(4096L + 10 * 1024 + 112 * 1024, s.get("allocated")); // usable sizes: size classes of 1000 B and 100 KiB
        Pools.Run omitted = readOnly(healthy, "stats", "-o", "gbl", healthy.toString());
        assertFalse(omitted.out().contains("Pool file:"), omitted.out());
        assertFalse(omitted.out().contains("bins:"), omitted.out());
        assertTrue(omitted.out().contains("Allocated: "), omitted.out());
        Pools.Run k = readOnly(killed, "stats", "--json", killed.toString());
        assertEquals(0, k.exit(), k.toString());
        Map<?, ?> ks = (Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) Json.parse(k.out())).get("jvmem")).get("stats");
        assertTrue((Long) ks.get("blocks") >= 12, k.out());
        assertTrue(h.out().contains("\nCheck: CONSISTENT\n"), h.out());
        assertEquals("INCONSISTENT", ((Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) Json.parse(k.out())).get("jvmem")).get("check")).get("status"));
        Pools.Run c = readOnly(corrupted, "stats", corrupted.toString());
        assertEquals(0, c.exit(), c.toString());
        assertTrue(c.out().contains("\nCheck: INCONSISTENT ("), c.out());
        Path notAPool = Files.writeString(dir.resolve("junk.pool"), "j".repeat(8192));
        Pools.Run n = readOnly(notAPool, "stats", notAPool.toString());
        assertEquals(2, n.exit(), n.toString());
        assertTrue(n.err().contains("(NOT_A_POOL)"), n.err());
    }

    @Test
    void dumpShowsTheRootBlockOrTheBytesAtAnOffset() throws Exception {
        for (Path p : List.of(healthy, killed)) {
            Pools.Run r = readOnly(p, "dump", "--root", p.toString());
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.out().contains(", 4096 bytes\n"), r.out());
            assertTrue(r.out().contains("6a76 6d65 6d20 726f 6f74 2062 6c6f 636b  jvmem root block"), r.out());
        }
        Pools.Run c = readOnly(corrupted, "dump", "--root", "--length", "16", corrupted.toString());
        assertEquals(0, c.exit(), c.toString());
        assertTrue(c.out().contains("jvmem root block"), c.out());
        Pools.Run header = readOnly(healthy, "dump", "--offset", "0x0", "--length", "8", healthy.toString());
        assertTrue(header.out().matches("(?s).*\n00000000: 4a56 4d45 4d50 4c00 +JVMEMPL\\.\n"), header.out());
        Pools.Run none = readOnly(healthy, "dump", "--offset", "8", healthy.toString());
        assertEquals(1, none.exit(), none.toString());
        assertTrue(none.err().contains("no live block starts at offset 8"), none.err());
    }

    @Test
    void dumpWithANegativeLengthOrOffsetIsAUsageError() throws Exception {
        Pools.Run len = readOnly(healthy, "dump", "--offset", "0", "--length", "-3", healthy.toString());
        assertEquals(2, len.exit(), len.toString());
        assertTrue(len.err().contains("--length must be 1 or more, not -3"), len.err());
        Pools.Run off = readOnly(healthy, "dump", "--offset", "-1", healthy.toString());
        assertEquals(2, off.exit(), off.toString());
        assertTrue(off.err().contains("--offset must be 0 or more, not -1"), off.err());
    }

    @Test
    void createMakesAConsistentPoolAndRefusesAnExistingFile() throws Exception {
        Path fresh = dir.resolve("new.pool");
        Pools.Run r = cli("create", "--size", "16m", "--layout", "mine", fresh.toString());
        assertEquals(0, r.exit(), r.toString());
        assertEquals(0, cli("check", fresh.toString()).exit());
        try (CtoPool p = CtoPool.open(fresh, "mine")) {
            assertEquals(16L << 20, p.size());
        }
        for (Path p : List.of(healthy, killed, corrupted)) {
            Pools.Run again = readOnly(p, "create", "--size", "16m", p.toString());
            assertEquals(1, again.exit(), again.toString());
        }
        assertEquals(2, cli("create", "--size", "1m", dir.resolve("tiny.pool").toString()).exit());
        assertFalse(Files.exists(dir.resolve("tiny.pool")));
    }

    @Test
    void rmRemovesPoolFilesButNotOtherFilesNorAPoolInUse() throws Exception {
        for (Path p : List.of(Pools.healthy(Files.createDirectory(dir.resolve("h"))),
                Pools.killed(Files.createDirectory(dir.resolve("k"))), Pools.corrupted(Files.createDirectory(dir.resolve("c"))))) {
            Pools.Run r = cli("rm", p.toString());
            assertEquals(0, r.exit(), r.toString());
            assertFalse(Files.exists(p));
        }
        Path text = Files.writeString(dir.resolve("notes.txt"), "x".repeat(8192));
        assertEquals(1, cli("rm", text.toString()).exit());
        assertTrue(Files.exists(text));
        assertEquals(0, cli("rm", "--force", text.toString()).exit());
        assertFalse(Files.exists(text));
        Path busy = Pools.healthy(Files.createDirectory(dir.resolve("b")));
        try (CtoPool open = CtoPool.open(busy, Pools.LAYOUT)) {
            Pools.Run r = cli("rm", busy.toString());
            assertEquals(2, r.exit(), r.toString());
            assertTrue(r.err().contains("(LOCKED)"), r.err());
            assertTrue(Files.exists(busy));
        }
    }

    @Test
    void usageErrorsExitTwo() {
        assertEquals(2, cli().exit());
        assertEquals(2, cli("frobnicate").exit());
        assertEquals(2, cli("dump", "x.pool").exit());
        assertEquals(0, cli("--help").exit());
    }
}
