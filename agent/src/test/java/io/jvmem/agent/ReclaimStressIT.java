package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Buffers that only the garbage collector releases, in fresh JVMs under the agent jar ({@link ReclaimStress}): a full
 * pool must be at least as reliable as the JDK's direct memory limit. Figures from many more runs:
 * {@code bench/reclaim-stress}.
 */
@Tag("stress")
class ReclaimStressIT {
    private static final Path JAR = Path.of("target/jvmem-agent.jar").toAbsolutePath();

    @TempDir
    Path dir;

    private static void assertNoOutOfMemoryError(int threads, int runs, Path dir) throws Exception {
        assertTrue(Files.isRegularFile(JAR), "build the agent jar first: " + JAR);
        for (int i = 0; i < runs; i++) {
            ReclaimStress.Run r = ReclaimStress.case7(JAR, dir, threads);
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.allocations() > 0, r.toString());
            assertEquals(0, r.ooms(), "run " + (i + 1) + " of " + runs + ": " + r);
        }
    }

    @Test
    @Timeout(180)
    void fortyThreadsDroppingBuffersInAFullFailPoolNeverRunOutOfMemory() throws Exception {
        assertNoOutOfMemoryError(40, 3, dir);
    }

    @Test
    @Timeout(180)
    void eightThreadsDroppingBuffersInAFullFailPoolNeverRunOutOfMemory() throws Exception {
        assertNoOutOfMemoryError(8, 3, dir);
    }

    @Test
    @Timeout(120)
    void droppedBuffersInAFullFallbackPoolAreReclaimedBeforeAnyFallsBack() throws Exception {
        assertTrue(Files.isRegularFile(JAR), "build the agent jar first: " + JAR);
        ReclaimStress.Run r = ReclaimStress.case8(JAR, dir);
        assertEquals(0, r.exit(), r.toString());
        assertEquals(ReclaimStress.CASE8_COUNT, r.allocations(), r.toString());
        assertTrue(r.fallbacks() >= 0 && r.fallbackBytes() >= 0, "the report counts fallbacks and their bytes: " + r.report());
        assertTrue(r.fallbacks() < ReclaimStress.CASE8_COUNT / 100, "fewer than 1% fall back: " + r.fallbacks() + "\n" + r.report());
        if (r.fallbacks() == 0) {
            assertEquals(List.of(), r.err(), "nothing fell back: nothing on stderr");
        }
    }
}
