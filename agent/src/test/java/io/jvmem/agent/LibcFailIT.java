package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * With on-exhausted=fail, a libc allocation through a downcall handle that the full pool cannot serve fails as libc's
 * own does: NULL (posix_memalign: ENOMEM; libc's own call sets errno), the block of a failed realloc kept. Not an
 * OutOfMemoryError, which a C-style caller does not expect from malloc, and not DRAM. One JVM under the real agent jar
 * runs sample.libcfull.LibcFull; each test checks one of its lines.
 */
@org.junit.jupiter.api.Tag("integration")
class LibcFailIT {
    private static final Path JAR = Path.of("target/jvmem-agent.jar").toAbsolutePath();

    @TempDir
    static Path dir;

    private static List<String> out;
    private static List<String> err;
    private static String report;

    @BeforeAll
    @Timeout(120)
    static void run() throws IOException, InterruptedException {
        assertTrue(Files.isRegularFile(JAR), "build the agent jar first: " + JAR);
        Path config = dir.resolve("jvmem.properties");
        Path reportFile = dir.resolve("report.json");
        Files.write(config, List.of("pool.p.size=14m", "route.r.include=sample.libcfull", "route.r.pool=p",
                "route.r.on-exhausted=fail", "log=warn", "report=" + reportFile));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-javaagent:" + JAR + "=" + config,
                "-cp", System.getProperty("java.class.path"), "sample.libcfull.LibcFull"));
        Process p = new ProcessBuilder(cmd).start();
        byte[] o = p.getInputStream().readAllBytes();
        byte[] e = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        out = new String(o, StandardCharsets.UTF_8).lines().toList();
        err = new String(e, StandardCharsets.UTF_8).lines().toList();
        assertEquals(0, p.exitValue(), "exit code: " + out + err);
        report = Files.readString(reportFile);
    }

    private static String line(String name) {
        return out.stream().filter(l -> l.startsWith(name + ": ")).map(l -> l.substring(name.length() + 2)).findFirst()
                .orElseThrow(() -> new AssertionError("no line " + name + " in " + out + err));
    }

    @Test
    @Timeout(10)
    void aMallocLargerThanThePoolReturnsNull() {
        assertEquals("0", line("larger than the pool"));
    }

    @Test
    @Timeout(10)
    void mallocCallocAndAlignedAllocReturnNullWhenThePoolIsFull() {
        assertEquals("true", line("filled"), "the pool filled up: malloc returned NULL before 20,000 blocks");
        assertEquals("0", line("malloc"));
        assertEquals("0", line("calloc"));
        assertEquals("0", line("aligned_alloc"));
    }

    @Test
    @Timeout(10)
    void posixMemalignReturnsEnomemAndLeavesItsPointerWhenThePoolIsFull() {
        assertEquals("12, pointer left 7", line("posix_memalign"));
    }

    @Test
    @Timeout(10)
    void aReallocThePoolCannotGrowReturnsNullAndKeepsTheBlock() {
        assertEquals("0, bytes kept true", line("realloc"));
        assertEquals("0", line("realloc of NULL"));
    }

    @Test
    @Timeout(10)
    void theFailuresAreSaidOnceAndCountedAndThePoolServesAgainOnceFreed() {
        assertEquals(1, err.stream().filter(l -> l.contains("returns NULL with errno ENOMEM")).count(), err.toString());
        assertTrue(err.stream().noneMatch(l -> l.contains("OutOfMemoryError")), err.toString());
        assertTrue(report.matches("(?s).*\"failures\": ([89]|[1-9][0-9]+).*"), "failures counted: " + report);
        assertEquals("true", line("malloc once freed"));
    }
}
