package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a program sees of its libc downcalls and looked-up handles is the JDK's, with or without the agent:
 * {@code sample.contract.LibcContract} runs in a JVM without the agent and in one whose route selects it, and each
 * case's outcome line must be the same; the agent's run also says what pool {@code p} saw.
 */
@org.junit.jupiter.api.Tag("integration")
class DowncallContractIT {
    private static final Path JAR = Path.of("target/jvmem-agent.jar").toAbsolutePath();
    private static final String MAIN = "sample.contract.LibcContract";

    @TempDir
    static Path dir;

    /** Per JVM: every line {@code <case>: ...} or {@code <case> pool: ...}, by its key (lines with the same key joined). */
    private static Map<String, String> jdk;
    private static Map<String, String> agent;

    @BeforeAll
    @Timeout(120)
    static void runBothWays() throws IOException, InterruptedException {
        assertTrue(Files.isRegularFile(JAR), "build the agent jar first: " + JAR);
        Path config = dir.resolve("jvmem.properties");
        Files.write(config, List.of("pool.p.size=16m", "route.r.include=sample.contract", "route.r.pool=p", "log=warn"));
        jdk = run(List.of());
        agent = run(List.of("-javaagent:" + JAR + "=" + config));
    }

    private static Map<String, String> run(List<String> agentArgs) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(agentArgs);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), MAIN));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "exit code (134: the JVM aborted in libc): " + out);
        Map<String, String> lines = new LinkedHashMap<>();
        for (String line : out.lines().toList()) {
            int colon = line.indexOf(": ");
            if (colon > 0) {
                lines.merge(line.substring(0, colon), line.substring(colon + 2), (a, b) -> a + "; " + b);
            }
        }
        return lines;
    }

    private static void assertSameOutcome(String name) {
        assertEquals(jdk.get(name), agent.get(name), name + " (null: the case did not run)");
    }

    @Test
    @Timeout(10)
    void aCriticalPosixMemalignFromASelectedClassWritesAPoolBlockIntoTheHeapArrayAsTheJdkWritesLibcs() {
        assertEquals("returned 0, pointer written true, aligned true, array[0] 0", jdk.get("criticalPosixMemalignIntoAHeapArray"));
        assertSameOutcome("criticalPosixMemalignIntoAHeapArray");
        assertEquals("in pool true; back after free true", agent.get("criticalPosixMemalignIntoAHeapArray pool"));
    }

    @Test
    @Timeout(10)
    void aPosixMemalignIntoAHeapArrayWithoutCriticalIsRefusedAsTheJdkRefusesIt() {
        assertTrue(jdk.get("posixMemalignIntoAHeapArrayWithoutCritical").startsWith(
                "threw java.lang.IllegalArgumentException: Heap segment not allowed"), jdk.toString());
        assertEquals(jdk.get("posixMemalignIntoAHeapArrayWithoutCritical").replaceAll("@[0-9a-f]+", ""),
                agent.get("posixMemalignIntoAHeapArrayWithoutCritical").replaceAll("@[0-9a-f]+", ""));
    }

    @Test
    @Timeout(10)
    void aCaptureCallStateReallocThatCannotMoveAPoolBlockToLibcLeavesLibcsEnomemInTheState() {
        assertEquals("returned NULL, errno 12, bytes kept true", jdk.get("failedReallocMovingABlockToLibc"));
        assertSameOutcome("failedReallocMovingABlockToLibc");
        assertEquals("in pool true", agent.get("failedReallocMovingABlockToLibc pool"));
    }

    @Test
    @Timeout(10)
    void aLookedUpVarargsAllocateFromStaysVarargsForRevealDirectReflectAsAndItsCallers() {
        assertTrue(jdk.get("varargsAllocateFromLookedUp").startsWith("isVarargsCollector true, revealed isVarArgs true, "
                + "reflected isVarArgs true, fixed arity false"), jdk.toString());
        assertSameOutcome("varargsAllocateFromLookedUp");
        assertEquals("in pool true true", agent.get("varargsAllocateFromLookedUp pool"));
    }

    @Test
    @Timeout(10)
    void reallocarrayOfAPoolBlockGrowsItInThePoolWhereLibcWouldHaveAborted() {
        assertEquals("overflow NULL, grown true, bytes kept true", jdk.get("reallocarrayOfABlock"));
        assertSameOutcome("reallocarrayOfABlock");
        assertEquals("in pool true; grown in pool true; back after free true", agent.get("reallocarrayOfABlock pool"));
    }

    @Test
    @Timeout(10)
    void vallocAndPvallocFromASelectedClassGivePageAlignedPoolBlocks() {
        assertEquals("page aligned true true", jdk.get("vallocAndPvalloc"));
        assertSameOutcome("vallocAndPvalloc");
        assertEquals("in pool true true; back after free true", agent.get("vallocAndPvalloc pool"));
    }

    @Test
    @Timeout(10)
    void mallocUsableSizeOfAPoolBlockIsThePoolsWhereGlibcWouldReadAHeaderThatIsNotThere() {
        assertEquals("at least asked true, same by address true, of NULL 0", jdk.get("mallocUsableSize"));
        assertSameOutcome("mallocUsableSize");
        assertEquals("in pool true, the pool's usable size true", agent.get("mallocUsableSize pool"));
    }

    @Test
    @Timeout(10)
    void mallocUsableSizeReturnedAsATargetedAddressIsSizedToItsTargetLayoutAsTheJdksIs() {
        assertEquals("segment size 8, at least asked true", jdk.get("mallocUsableSizeReturnedAsATargetedAddress"));
        assertSameOutcome("mallocUsableSizeReturnedAsATargetedAddress");
        assertEquals("in pool true", agent.get("mallocUsableSizeReturnedAsATargetedAddress pool"));
    }

    @Test
    @Timeout(10)
    void mallocUsableSizeThroughAnUnboundHandleIsThePoolsForAPoolBlock() {
        assertEquals("same as bound, same as bound, freed", jdk.get("mallocUsableSizeThroughAnUnboundHandle"));
        assertSameOutcome("mallocUsableSizeThroughAnUnboundHandle");
        assertEquals("in pool true true", agent.get("mallocUsableSizeThroughAnUnboundHandle pool"));
    }

    @Test
    @Timeout(10)
    void mallocUsableSizeWithCaptureCallStateIsThePoolsForAPoolBlock() {
        assertEquals("same as bound, same as bound, freed", jdk.get("mallocUsableSizeWithCaptureCallState"));
        assertSameOutcome("mallocUsableSizeWithCaptureCallState");
        assertEquals("in pool true true", agent.get("mallocUsableSizeWithCaptureCallState pool"));
    }
}
