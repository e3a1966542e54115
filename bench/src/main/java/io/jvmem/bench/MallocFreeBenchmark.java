package io.jvmem.bench;

import io.jvmem.allocator.VolatilePool;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A malloc+free pair from a volatile pool on tmpfs against Unsafe.allocateMemory+freeMemory (glibc malloc), the
 * same sizes in the same run. Run with -t 1 and -t 2 for the scaling figure.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Benchmark)
public class MallocFreeBenchmark {
    @Param({"64", "4096", "65536", "1048576"})
    public long size;

    private VolatilePool pool;
    private io.jvmem.allocator.TypedAllocator typed;

    @Setup(Level.Trial)
    public void create() {
        Path dir = BenchDirs.tmpfsOrTemp();
        pool = VolatilePool.create("bench", dir, 256L << 20);
        typed = pool.typed(io.jvmem.allocator.AllocationTag.define("bench"));
    }

    @TearDown(Level.Trial)
    public void delete() {
        pool.delete();
    }

    @Benchmark
    public long poolMallocFree() {
        long a = pool.malloc(size);
        pool.free(a);
        return a;
    }

    /** The pair with the per-tag counters as the agent's arena sites use it (malloc(9)'s typed malloc and free). */
    @Benchmark
    public long poolTypedMallocFree() {
        long a = typed.malloc(size);
        typed.free(a);
        return a;
    }

    @Benchmark
    public long unsafeAllocateFree() {
        long a = Baselines.UNSAFE.allocateMemory(size);
        Baselines.UNSAFE.freeMemory(a);
        return a;
    }
}
