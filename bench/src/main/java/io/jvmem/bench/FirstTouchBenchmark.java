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
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * First-touch cost per 4 KiB page: one store into each page of memory nobody has touched yet. "pool": a block of a
 * volatile pool created on /dev/shm for the iteration (its file space is reserved by fallocate at create, so the
 * touch maps a page the file already has); "dram": a fresh {@code Unsafe.allocateMemory} region (glibc hands such
 * sizes out as a new anonymous mapping, so the touch faults in a zeroed page). Each iteration uses fresh memory;
 * only the touching is timed. Score: ns per page.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Benchmark)
public class FirstTouchBenchmark {
    static final long PAGE = 4096;
    static final int PAGES = 1 << 16; // 256 MiB

    @Param({"pool", "dram"})
    public String memory;

    private VolatilePool pool;
    private long base;

    @Setup(Level.Iteration)
    public void fresh() {
        long bytes = PAGES * PAGE;
        if (memory.equals("pool")) {
            Path dir = BenchDirs.tmpfsOrTemp();
            pool = VolatilePool.create("bench-touch", dir, bytes + (64L << 20));
            base = pool.malloc(bytes);
            if (base == 0) {
                throw new IllegalStateException("pool malloc(" + bytes + ") failed");
            }
        } else {
            base = Baselines.UNSAFE.allocateMemory(bytes);
        }
    }

    @TearDown(Level.Iteration)
    public void release() {
        if (pool != null) {
            pool.delete();
            pool = null;
        } else {
            Baselines.UNSAFE.freeMemory(base);
        }
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public void touchEveryPage() {
        long a = base;
        for (long i = 0; i < PAGES; i++) {
            Baselines.UNSAFE.putByte(a + i * PAGE, (byte) 1);
        }
    }
}
