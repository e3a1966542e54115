package io.jvmem.bench;

import io.jvmem.allocator.PoolOptions;
import io.jvmem.allocator.VolatilePool;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of growth per GiB: allocating 1 GiB as 64 blocks of 16 MiB in a memfd pool that starts at 16 MiB and grows
 * to it ("grow": steps that double the heap up to 64 MiB at a time, each extending the file, mapping the chunk in
 * place and reserving its pages), against a memfd pool created at its full size ("fixed": the same reservation made
 * up front). Both pools are created, filled and deleted inside the measured operation; no block is touched, so page
 * faults are not part of it. The difference is what growth adds.
 */
@BenchmarkMode(Mode.SingleShotTime)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class GrowthBenchmark {
    @Param({"grow", "fixed"})
    public String pool;

    @Benchmark
    public long allocateOneGiB() {
        long gib = 1L << 30;
        long heapOverhead = 32L << 20; // metadata of a 1 GiB + slack pool
        PoolOptions options = PoolOptions.DEFAULT.withThreadCacheMax(0);
        try (VolatilePool p = pool.equals("grow")
                ? VolatilePool.createMemfd("bench-grow", 16L << 20, options.withMaxSize(gib + heapOverhead))
                : VolatilePool.createMemfd("bench-grow", gib + heapOverhead, options)) {
            for (int i = 0; i < 64; i++) {
                if (p.malloc(16L << 20) == 0) {
                    throw new IllegalStateException("malloc(16 MiB) #" + i + " failed in a " + pool + " pool");
                }
            }
            return p.size();
        }
    }
}
