package io.jvmem.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/** Smoke mode: every benchmark runs once, briefly, in process, so CI proves they still work. No timing asserted. */
class BenchmarkSmokeTest {
    @TempDir
    Path dir;

    @Test
    void everyAllocationBenchmarkRunsAndTheResultsPageIsWritten() throws Exception {
        Path json = dir.resolve("malloc-1t.json");
        Options opt = new OptionsBuilder()
                .include(MallocFreeBenchmark.class.getSimpleName())
                .forks(0).warmupIterations(0).measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(50))
                .resultFormat(org.openjdk.jmh.results.format.ResultFormatType.JSON).result(json.toString())
                .build();
        Collection<RunResult> results = new Runner(opt).run();
        assertEquals(8, results.size(), "4 sizes × pool and Unsafe");
        for (RunResult r : results) {
            assertTrue(r.getPrimaryResult().getScore() > 0);
        }
        Path page = dir.resolve("RESULTS.md");
        ResultsPage.main(new String[] {dir.toString(), page.toString(), "smoke"});
        String md = Files.readString(page);
        assertTrue(md.contains("| 64 B | 1 |"), md);
        assertTrue(md.contains("pool / Unsafe"), md);
    }
}
