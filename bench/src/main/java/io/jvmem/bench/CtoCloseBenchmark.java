package io.jvmem.bench;

import io.jvmem.allocator.CtoPool;
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
 * Time to close a close-to-open pool (return cached blocks, msync the whole file, mark it consistent) after writing
 * {@code writeMiB} into a pool of {@code poolMiB} in 1 MiB blocks. Each iteration creates a fresh pool file; only
 * {@code close()} is timed. {@code dir}: "shm" puts the pool file on /dev/shm (tmpfs: close costs the bookkeeping
 * and the msync walk, no device writes); "tmp" puts it under java.io.tmpdir (on this machine's disk: the 512 MiB
 * are written back during close).
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Benchmark)
public class CtoCloseBenchmark {
    @Param({"1024"})
    public long poolMiB;

    @Param({"512"})
    public long writeMiB;

    @Param({"shm", "tmp"})
    public String dir;

    private Path file;
    private CtoPool pool;

    static Path directory(String dir) {
        if (dir.equals("shm") && Files.isDirectory(Path.of("/dev/shm"))) {
            return Path.of("/dev/shm");
        }
        return Path.of(System.getProperty("java.io.tmpdir"));
    }

    @Setup(Level.Iteration)
    public void fill() throws IOException {
        file = Files.createTempFile(directory(dir), "jvmem-bench-close", ".cto");
        Files.delete(file); // create refuses an existing file: keep only the unique name
        pool = CtoPool.create(file, "bench", poolMiB << 20);
        long block = 1L << 20;
        for (long written = 0; written < writeMiB << 20; written += block) {
            long a = pool.malloc(block);
            if (a == 0) {
                throw new IllegalStateException("pool full after " + (written >> 20) + " MiB: " + io.jvmem.allocator.MemoryPool.lastError());
            }
            pool.segment(a).fill((byte) written);
        }
    }

    @Benchmark
    public void close() {
        pool.close();
    }

    @TearDown(Level.Iteration)
    public void delete() throws IOException {
        pool.close();
        Files.deleteIfExists(file);
    }
}
