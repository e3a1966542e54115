package io.jvmem.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvmem.it.Forked.NettyJars;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * jvmem beside the other agents deployments run, in forked JVMs, in both orders: JaCoCo's coverage agent (every class
 * instrumented, the usual CI setup: a surefire/failsafe argLine), OpenTelemetry's javaagent started after jvmem (the
 * other order is {@link Netty42EchoIT}), and jvmem attached late ({@code VirtualMachine.loadAgent}) to a JVM where
 * JaCoCo's or OpenTelemetry's agent already runs. The routed program is Netty 4.2's echo ({@link Netty42EchoIT}'s
 * accounting: Netty's own chunk events against the pool's mappings) or {@link LateAttach}.
 *
 * <p>JaCoCo registers a transformer that cannot retransform: it instruments a class as it loads, and the JVM hands
 * the instrumented bytes, not the class file's, to jvmem when jvmem retransforms the class; jvmem's rewrite must keep
 * JaCoCo's probes (its {@code $jacocoInit} calls and the {@code $jacocoData} field) working.
 */
@org.junit.jupiter.api.Tag("integration")
class OtherAgentsIT {
    static final String HOLDER = "io/netty/util/internal/CleanerJava24Linker$Holder";
    static final int LATE_BUFFERS = 24;
    /** What the VM prints when an agent jar joins the boot class path after start-up (OpenTelemetry's does, and jvmem's at a late attach). */
    static final String BOOT_APPEND = "OpenJDK 64-Bit Server VM warning: Sharing is only supported for boot loader "
            + "classes because bootstrap classpath has been appended";

    static Path jacocoAgent() {
        String jar = System.getProperty("jvmem.it.jacoco.agent");
        assertTrue(jar != null && Files.isRegularFile(Path.of(jar)),
                "JaCoCo's agent (copied by maven-dependency-plugin, execution jacoco-agent): " + jar);
        return Path.of(jar);
    }

    static Path otelAgent() {
        String jar = System.getProperty("jvmem.it.otel.agent");
        assertTrue(jar != null && Files.isRegularFile(Path.of(jar)),
                "OpenTelemetry's javaagent (copied by maven-dependency-plugin, execution otel-javaagent): " + jar);
        return Path.of(jar);
    }

    static String jacocoOption(Forked.Run run) {
        return "-javaagent:" + jacocoAgent() + "=destfile=" + run.dir.resolve("jacoco.exec");
    }

    static List<String> otelOptions() {
        return List.of("-javaagent:" + otelAgent(), "-Dotel.traces.exporter=none", "-Dotel.metrics.exporter=none",
                "-Dotel.logs.exporter=none", "-Dslf4j.internal.verbosity=ERROR");
    }

    /**
     * The JDK's four lines (JEP 498) on ByteBuddy's use of {@code sun.misc.Unsafe} in OpenTelemetry's javaagent, under
     * the JDK's default {@code --sun-misc-unsafe-memory-access}: the only WARNING lines of a run with it.
     */
    static List<String> otelUnsafeWarnings() {
        String caller = "net.bytebuddy.dynamic.loading.ClassInjector$UsingUnsafe$Dispatcher$CreationAction";
        return List.of("WARNING: A terminally deprecated method in sun.misc.Unsafe has been called",
                "WARNING: sun.misc.Unsafe::objectFieldOffset has been called by " + caller + " (file:" + otelAgent() + ")",
                "WARNING: Please consider reporting this to the maintainers of class " + caller,
                "WARNING: sun.misc.Unsafe::objectFieldOffset will be removed in a future release");
    }

    /** The JDK's four lines (JEP 451) on an agent loaded into a running JVM without {@code -XX:+EnableDynamicAgentLoading}. */
    static List<String> dynamicAgentWarnings() {
        return List.of("WARNING: A Java agent has been loaded dynamically (" + Forked.agentJar() + ")",
                "WARNING: If a serviceability tool is in use, please run with -XX:+EnableDynamicAgentLoading to hide this warning",
                "WARNING: If a serviceability tool is not in use, please run with -Djdk.instrument.traceUsage for more information",
                "WARNING: Dynamic loading of agents will be disallowed by default in a future release");
    }

    static Map<String, boolean[]> coverage(Forked.Result r) {
        Path exec = r.run().dir.resolve("jacoco.exec");
        assertTrue(Files.isRegularFile(exec), "JaCoCo wrote no execution data at " + exec + r.describe());
        try {
            return JacocoExec.read(exec);
        } catch (IOException e) {
            throw new AssertionError("cannot read JaCoCo's execution data " + exec + r.describe(), e);
        }
    }

    /** Netty's echo under both agents: every chunk in the pool, and JaCoCo recorded the routed class's coverage. */
    private static void assertNettyRoutedAndCovered(Forked.Result r) {
        String line = Netty42EchoIT.account(r, "CleanerJava24Linker");
        Netty42EchoIT.assertServedByPool(r, line, "downcall", "io.netty.util.internal.CleanerJava24Linker$Holder.");
        assertEquals(r.okValue(line, "chunks"), r.okValue(line, "poolChunks"), "every chunk in the pool: " + line + r.describe());
        Map<String, boolean[]> cov = coverage(r);
        boolean[] holder = cov.get(HOLDER);
        assertNotNull(holder, "JaCoCo has no coverage of the routed class " + HOLDER + " (" + cov.size() + " classes)"
                + r.describe());
        assertTrue(JacocoExec.hits(holder) > 0, "the routed class ran, but JaCoCo saw none of it: "
                + JacocoExec.describe(holder) + r.describe());
        assertTrue(cov.containsKey("io/jvmem/it/NettyDefaultEcho"), "JaCoCo's data lacks the program's class" + r.describe());
        r.assertClean(); // no WARNING line, no jvmem line, no rewrite failure
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void afterJacocosAgentNettysChunksAreInThePoolAndJacocoRecordsTheRoutedClass() {
        Forked.Run run = Netty42EchoIT.netty42("others-jacoco-first", "io.netty", NettyJars.CLASS_PATH_42)
                .defaultUnsafeMemoryAccess();
        run.first(jacocoOption(run));
        assertNettyRoutedAndCovered(Netty42EchoIT.exec(run));
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void beforeJacocosAgentNettysChunksAreInThePoolAndJacocoRecordsTheRoutedClass() {
        Forked.Run run = Netty42EchoIT.netty42("others-jacoco-second", "io.netty", NettyJars.CLASS_PATH_42)
                .defaultUnsafeMemoryAccess();
        run.jvm(jacocoOption(run));
        assertNettyRoutedAndCovered(Netty42EchoIT.exec(run));
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void beforeOpenTelemetrysJavaagentNettysMallocDowncallsAreInThePool() {
        Forked.Result r = Netty42EchoIT.exec(Netty42EchoIT.netty42("others-otel-second", "io.netty", NettyJars.CLASS_PATH_42)
                .defaultUnsafeMemoryAccess().jvm(otelOptions().toArray(new String[0])));
        assertTrue(r.stderr().contains("opentelemetry-javaagent - version: "), "OpenTelemetry's agent ran" + r.describe());
        String line = Netty42EchoIT.account(r, "CleanerJava24Linker");
        Netty42EchoIT.assertServedByPool(r, line, "downcall", "io.netty.util.internal.CleanerJava24Linker$Holder.");
        assertEquals(otelUnsafeWarnings(), r.warningLines(), "only the JDK's lines on ByteBuddy's Unsafe, no jvmem line"
                + r.describe());
        r.report().assertNoRewriteFailures();
    }

    static Forked.Run late(String name) {
        return Forked.prepare(name)
                .pool("late", "volatile", "32m")
                .route("late", "late", "io.jvmem.it.LateBlocks")
                .defaultUnsafeMemoryAccess()
                .lateAttach();
    }

    static Forked.Result execLate(Forked.Run run, boolean attach) {
        return run.exec(LateAttach.class, attach ? Forked.agentJar().toString() : "none", run.configFile().toString(),
                run.poolDir.toString(), String.valueOf(LATE_BUFFERS));
    }

    /**
     * The program's buffers after the attach are pool memory, those before are not; the report counts exactly the
     * ones after, at their own site; nothing failed to rewrite.
     */
    private static void assertRoutedAfterTheAttach(Forked.Result r) {
        String ok = r.assertOk("LATE OK ");
        assertTrue(ok.contains(" attached=true "), ok + r.describe());
        assertEquals(0, r.okValue(ok, "beforeInPool"), "a buffer allocated before the attach lies in the pool: " + ok + r.describe());
        assertEquals(LATE_BUFFERS, r.okValue(ok, "afterInPool"), "every buffer after the attach is pool memory: " + ok + r.describe());
        Report rep = r.report();
        assertEquals(LATE_BUFFERS, rep.number(rep.route("late"), "allocations"), rep.dump);
        List<Map<String, Object>> after = rep.sites().stream()
                .filter(s -> rep.string(s, "site").startsWith("io.jvmem.it.LateBlocks.filledAfterAttach(")).toList();
        assertEquals(1, after.size(), "one site in filledAfterAttach:\n" + rep.dump);
        assertEquals(LATE_BUFFERS, rep.number(after.get(0), "allocations"), rep.dump);
        rep.assertNoRewriteFailures();
    }

    /** stderr's lines, but for those starting with {@code prefix} (OpenTelemetry's log: {@code [otel.javaagent ...] INFO ...}). */
    private static List<String> stderrBesides(Forked.Result r, String prefix) {
        return r.stderr().lines().filter(l -> prefix == null || !l.startsWith(prefix)).toList();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aLateAttachBesideJacocoRoutesTheRetransformedClassAndKeepsJacocosProbes() {
        // JaCoCo alone, no attach: the coverage the program's allocating class should have
        Forked.Run alone = late("others-late-jacoco-alone");
        Forked.Result control = execLate(alone.first(jacocoOption(alone)), false);
        assertTrue(control.assertOk("LATE OK ").contains(" attached=false "), control.describe());
        boolean[] expected = coverage(control).get("io/jvmem/it/LateBlocks");
        assertNotNull(expected, "JaCoCo recorded nothing of LateBlocks" + control.describe());

        Forked.Run run = late("others-late-jacoco");
        Forked.Result r = execLate(run.first(jacocoOption(run)), true);
        assertRoutedAfterTheAttach(r);
        boolean[] actual = coverage(r).get("io/jvmem/it/LateBlocks");
        assertNotNull(actual, "JaCoCo recorded nothing of LateBlocks" + r.describe());
        // filledAfterAttach runs only in the retransformed class: had jvmem been given JaCoCo's input instead of its
        // output, or broken its probes, these would differ
        assertArrayEquals(expected, actual, "LateBlocks' coverage with jvmem attached " + JacocoExec.describe(actual)
                + ", without " + JacocoExec.describe(expected) + r.describe());
        List<String> expectedErr = new java.util.ArrayList<>(List.of(BOOT_APPEND));
        expectedErr.addAll(dynamicAgentWarnings());
        assertEquals(expectedErr, stderrBesides(r, null), "only the JVM's lines on a late attach (the boot class path's, "
                + "JEP 451's), nothing of jvmem's or JaCoCo's" + r.describe());
        assertEquals("", control.stderr(), control.describe());
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void aLateAttachBesideOpenTelemetrysJavaagentRoutesTheRetransformedClass() {
        Forked.Run run = late("others-late-otel");
        Forked.Result r = execLate(run.first(otelOptions().toArray(new String[0])), true);
        assertTrue(r.stderr().contains("opentelemetry-javaagent - version: "), "OpenTelemetry's agent ran" + r.describe());
        assertRoutedAfterTheAttach(r);
        // the boot class path notice for OpenTelemetry's bootstrap jar at its start and for jvmem's at the attach, the
        // JDK's lines on ByteBuddy's Unsafe and on a dynamically loaded agent: nothing of jvmem's
        List<String> expected = new java.util.ArrayList<>(List.of(BOOT_APPEND));
        expected.addAll(otelUnsafeWarnings());
        expected.add(BOOT_APPEND);
        expected.addAll(dynamicAgentWarnings());
        assertEquals(expected, stderrBesides(r, "[otel.javaagent "), r.describe());
    }
}
