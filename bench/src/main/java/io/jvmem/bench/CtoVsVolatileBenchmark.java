package io.jvmem.bench;

import io.jvmem.allocator.CtoPool;
import io.jvmem.allocator.MemoryPool;
import io.jvmem.allocator.VolatilePool;
import java.io.IOException;
import java.nio.file.Files;
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
 * A malloc+free pair in a close-to-open pool against the same pair in a volatile pool, one thread. Both pools live
 * in the same new directory under java.io.tmpdir and have the same size (256 MiB), so the difference is what the
 * close-to-open bookkeeping costs while the pool is open.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Benchmark)
public class CtoVsVolatileBenchmark {
    static final long POOL_SIZE = 256L << 20;

    @Param({"64", "4096", "65536"})
    public long size;

    private Path dir;
    private CtoPool cto;
    private VolatilePool vol;

    @Setup(Level.Trial)
    public void create() throws IOException {
        dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "jvmem-bench-cto");
        cto = CtoPool.create(dir.resolve("bench.cto"), "bench", POOL_SIZE);
        vol = VolatilePool.create("bench", dir, POOL_SIZE);
    }

    @TearDown(Level.Trial)
    public void delete() throws IOException {
        cto.close();
        vol.delete();
        Files.deleteIfExists(dir.resolve("bench.cto"));
        Files.deleteIfExists(dir);
    }

    private static long pair(MemoryPool p, long size) {
        long a = p.malloc(size);
        p.free(a);
        return a;
    }

    @Benchmark
    public long ctoMallocFree() {
        return pair(cto, size);
    }

    @Benchmark
    public long volatileMallocFree() {
        return pair(vol, size);
    }
}
