package io.jvmem.bench;

import io.jvmem.allocator.VolatilePool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * Bandwidth of plain loads and stores over one large region ({@code regionMiB}, 1 GiB by default), through the same
 * {@link MemorySegment} code for every kind of memory: a block of a volatile pool on /dev/shm ("pool"), an
 * {@code Arena.ofShared()} segment (DRAM, what a direct ByteBuffer gets: "dram") and a heap {@code long[]} ("heap").
 * One sequential operation is a whole pass over the region; one random operation reads one 64-byte line at a random
 * line of the region. Every region is written once in setup, so page faults are not measured here (see
 * {@link FirstTouchBenchmark}). Each benchmark runs in its own fork, so only one region exists at a time.
 */
@BenchmarkMode(Mode.AverageTime)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmx2g"})
@State(Scope.Benchmark)
public class AccessBenchmark {
    static final int RANDOM_READS = 1 << 16;

    @Param({"pool", "dram", "heap"})
    public String memory;

    @Param({"1024"})
    public long regionMiB;

    private VolatilePool pool;
    private Arena arena;
    private MemorySegment region;
    private long lines;
    private long seed = 0x9E3779B97F4A7C15L;

    @Setup(Level.Trial)
    public void create() {
        long bytes = regionMiB << 20;
        switch (memory) {
            case "pool" -> {
                Path dir = BenchDirs.tmpfsOrTemp();
                pool = VolatilePool.create("bench-access", dir, bytes + Math.max(64L << 20, bytes / 16));
                long a = pool.malloc(bytes);
                if (a == 0) {
                    throw new IllegalStateException("pool malloc(" + bytes + ") failed");
                }
                region = pool.segment(a).asSlice(0, bytes);
            }
            case "dram" -> {
                arena = Arena.ofShared();
                region = arena.allocate(bytes, 4096);
            }
            case "heap" -> region = MemorySegment.ofArray(new long[Math.toIntExact(bytes / 8)]);
            default -> throw new IllegalArgumentException(memory);
        }
        lines = bytes / 64;
        region.fill((byte) 1); // fault every page in before measuring
    }

    @TearDown(Level.Trial)
    public void delete() {
        if (pool != null) {
            pool.delete();
        }
        if (arena != null) {
            arena.close();
        }
    }

    @Benchmark
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public void sequentialWrite() {
        MemorySegment s = region;
        long n = s.byteSize();
        for (long off = 0; off < n; off += 8) {
            s.set(ValueLayout.JAVA_LONG, off, off);
        }
    }

    @Benchmark
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public long sequentialRead() {
        MemorySegment s = region;
        long n = s.byteSize();
        long sum = 0;
        for (long off = 0; off < n; off += 8) {
            sum += s.get(ValueLayout.JAVA_LONG, off);
        }
        return sum;
    }

    /** Reads of whole 64-byte lines at random line addresses; score is ns per line. */
    @Benchmark
    @OperationsPerInvocation(RANDOM_READS)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public long random64ByteRead() {
        MemorySegment s = region;
        long mask = Long.highestOneBit(lines) - 1;
        long x = seed;
        long sum = 0;
        for (int i = 0; i < RANDOM_READS; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            long off = (x & mask) << 6;
            for (long k = 0; k < 64; k += 8) {
                sum += s.get(ValueLayout.JAVA_LONG, off + k);
            }
        }
        seed = x;
        return sum;
    }
}
