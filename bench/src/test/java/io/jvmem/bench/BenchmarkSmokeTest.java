package io.jvmem.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.VerboseMode;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Smoke mode: every benchmark suite runs once, briefly, in process (the agent-free variants), and the results page and
 * its charts are written from what they produced, so CI proves they still work. No timing is asserted.
 *
 * <p>The variants that need the agent in the JVM (forks started with {@code -javaagent}) run in
 * {@link #agentVariantsRunUnderTheAgent()} when {@code -Djvmem.bench.agentJar=<path to jvmem-agent.jar>} is given, and
 * always in {@code bench/run --smoke}.
 */
@org.junit.jupiter.api.Tag("bench-smoke")
class BenchmarkSmokeTest {
    /**
     * JMH's console output, kept for a look instead of flooding the build's. The in-process runs make JMH print "Non-forked
     * runs may silently omit JVM options, mess up profilers, disable compiler hints": true, and harmless here, since a
     * smoke run measures nothing (bench/run, which does, forks).
     */
    private static final Path JMH_LOG = Path.of("target", "jmh-smoke.log");

    @TempDir
    Path dir;

    private static Collection<RunResult> run(Options options) throws RunnerException, IOException {
        Files.createDirectories(JMH_LOG.getParent());
        try (PrintStream log = new PrintStream(new FileOutputStream(JMH_LOG.toFile(), true), true, StandardCharsets.UTF_8)) {
            return new Runner(options, OutputFormatFactory.createFormatInstance(log, VerboseMode.NORMAL)).run();
        }
    }

    private Collection<RunResult> jmh(String include, String json, String... params) throws Exception {
        ChainedOptionsBuilder b = new OptionsBuilder()
                .include(include)
                .forks(0).warmupIterations(0).measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(50))
                .resultFormat(ResultFormatType.JSON).result(dir.resolve(json).toString());
        for (int i = 0; i < params.length; i += 2) {
            b.param(params[i], params[i + 1]);
        }
        Collection<RunResult> results = run(b.build());
        for (RunResult r : results) {
            assertTrue(r.getPrimaryResult().getScore() > 0, r.getParams().getBenchmark());
        }
        return results;
    }

    @Test
    void everyBenchmarkRunsAndTheResultsPageIsWritten() throws Exception {
        assertEquals(12, jmh("MallocFreeBenchmark", "malloc-1t.json").size(), "4 sizes × pool, typed and Unsafe");
        assertEquals(8, jmh("ObservabilityBenchmark", "observability.json").size(), "2 sizes × off, jfrOthers, jfr, jmx");
        assertEquals(6, jmh("CtoVsVolatileBenchmark", "cto.json").size(), "3 sizes × cto and volatile");
        assertEquals(1, jmh("CtoCloseBenchmark", "cto-close.json", "poolMiB", "32", "writeMiB", "16", "dir", "shm").size());
        assertEquals(17, jmh("AgentAllocateDirectBenchmark", "agent-jdk.json").size(),
                "4 sizes × JDK, Netty, zeroing and the bare wrapper, and GC release");
        assertEquals(14, jmh("AgentReachBenchmark", "reach-jdk.json").size(), "4 sizes × confined arena and zeroing, "
                + "shared arena, 2 open + close floors, freeMemory by handle and direct, Method.invoke");
        assertEquals(9, jmh("\\.AccessBenchmark\\.", "access.json", "regionMiB", "16").size(), "3 memories × 3 accesses");
        assertEquals(2, jmh("FirstTouchBenchmark", "first-touch.json").size(), "pool and DRAM");
        NettyEcho.main(new String[] {"jdk", dir.resolve("e2e-jdk.json").toString(), "0.3", "0.1", "2", "256"});
        assertTrue(Files.readString(dir.resolve("e2e-jdk.json")).contains("\"throughput\""));
        H2Workload.main(new String[] {"jdk", dir.resolve("h2-jdk.json").toString(), "0.3", "0.1", "2000"});
        assertTrue(Files.readString(dir.resolve("h2-jdk.json")).contains("\"throughput\""));

        Path page = dir.resolve("RESULTS.md");
        ResultsPage.main(new String[] {dir.toString(), page.toString(), "smoke"});
        String md = Files.readString(page);
        assertTrue(md.contains("| 64 B | 1 |"), md);
        assertTrue(md.contains("pool / Unsafe"), md);
        assertTrue(md.contains("| typed (ns) |"), "the typed pair's column");
        for (String s : List.of("## Targets", "cto / volatile", "### Close time", "Netty pooled", "pool / DRAM", "### First touch",
                "### Arenas", "| confined | 4 KiB |", "| shared | 4 KiB |", "Method.invoke of a method not intercepted",
                "Running against real DAX or CXL memory", "charts/allocation.svg", "charts/bandwidth.svg")) {
            assertTrue(md.contains(s), s + " missing in\n" + md);
        }
        for (String svg : List.of("allocation.svg", "bandwidth.svg")) {
            assertTrue(Files.readString(dir.resolve("charts").resolve(svg)).startsWith("<svg"), svg);
        }
    }

    @Test
    void agentVariantsRunUnderTheAgent() throws Exception {
        String jar = System.getProperty("jvmem.bench.agentJar", "");
        Assumptions.assumeTrue(!jar.isEmpty(), "set -Djvmem.bench.agentJar=<jvmem-agent.jar> to run the agent variants");
        Path agent = Path.of(jar).toAbsolutePath();
        assertTrue(Files.exists(agent), "no agent jar at " + agent + ": build it first (mvn -pl bench -am verify builds it)");
        Path config = dir.resolve("agent.properties");
        Files.writeString(config, "pool.main.size=64m\nroute.bench.include=io.jvmem.bench.routed\nroute.bench.pool=main\n"
                + "report=" + dir.resolve("agent-report.json") + "\n");
        Collection<RunResult> pool = run(new OptionsBuilder()
                .include("AgentAllocateDirectBenchmark\\.allocateDirectInvokeCleaner").param("size", "4096")
                .forks(1).warmupIterations(0).measurementIterations(1).measurementTime(TimeValue.milliseconds(50))
                .jvmArgsAppend("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                        "-Djvmem.bench.variant=pool", "-javaagent:" + agent + "=" + config)
                .build());
        assertEquals(1, pool.size(), "the pool variant ran (its setup checks that buffers come from the pool)");
        Collection<RunResult> reach = run(new OptionsBuilder()
                .include("AgentReachBenchmark\\.(confinedArena|sharedArena|handleFreeMemory|methodInvoke)$").param("size", "4096")
                .forks(1).warmupIterations(0).measurementIterations(1).measurementTime(TimeValue.milliseconds(50))
                .jvmArgsAppend("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                        "-Djvmem.bench.variant=pool", "-javaagent:" + agent + "=" + config)
                .build());
        assertEquals(4, reach.size(), "the pool variants of the arenas, the handle and Method.invoke ran (their setup checks "
                + "that the arenas' segments come from the pool and that the handle is pool-aware)");
        StartupTimer.main(new String[] {dir.resolve("startup.json").toString(), "1", System.getProperty("java.class.path"),
                agent + "=" + config, dir.resolve("agent-report.json").toString()});
        String startup = Files.readString(dir.resolve("startup.json"));
        assertTrue(startup.contains("withMedianMs"), startup);
        assertTrue(startup.contains("withNoReportMedianMs"), "the variant without the report: " + startup);
        assertTrue(startup.contains("\"configAndBridge\": "), "the agent's phases (log=info start line) are missing: " + startup);
    }
}
