package io.jvmem.bench;

import io.jvmem.allocator.PoolOptions;
import io.jvmem.allocator.PoolStats;
import io.jvmem.allocator.VolatilePool;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
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
 * Memory tiers (issue 11): random 64-byte reads and sequential reads over one region of {@code regionMiB} (2 GiB by
 * default, far beyond the TLB's reach with 4 KiB pages) on three backings, through the same {@link MemorySegment}
 * code: a pool in a hugetlbfs directory ({@code hugeDir}, 2 MiB pages: "hugetlbfs"), a memfd pool on 4 KiB pages
 * ("pool4k") and an {@code Arena.ofShared()} segment, the memory a direct ByteBuffer gets ("dram"). Every region is
 * written once in setup (no page fault is measured), and each prints how many of its bytes huge pages back, so a
 * DRAM region that got transparent huge pages shows. The hugetlbfs directory and its huge pages are prepared by root
 * (bench/tier does it and undoes it).
 */
@BenchmarkMode(Mode.AverageTime)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
@State(Scope.Benchmark)
public class TierBenchmark {
    static final int RANDOM_READS = 1 << 16;

    @Param({"hugetlbfs", "pool4k", "dram"})
    public String memory;

    @Param({"2048"})
    public long regionMiB;

    @Param({"/mnt/jvmem-huge"})
    public String hugeDir;

    private VolatilePool pool;
    private Arena arena;
    private MemorySegment region;
    private long lines;
    private long seed = 0x9E3779B97F4A7C15L;

    @Setup(Level.Trial)
    public void create() throws IOException {
        long bytes = regionMiB << 20;
        long poolBytes = bytes + (64L << 20); // room for the metadata, in whole 2 MiB pages
        switch (memory) {
            case "hugetlbfs" -> pool = VolatilePool.create("bench-tier", Path.of(hugeDir), poolBytes);
            case "pool4k" -> pool = VolatilePool.createMemfd("bench-tier", poolBytes, PoolOptions.DEFAULT);
            case "dram" -> {
                arena = Arena.ofShared();
                region = arena.allocate(bytes, 4096);
            }
            default -> throw new IllegalArgumentException(memory);
        }
        if (pool != null) {
            long a = pool.alignedAlloc(2L << 20, bytes);
            if (a == 0) {
                throw new IllegalStateException("pool alignedAlloc(" + bytes + ") failed");
            }
            region = pool.segment(a).asSlice(0, bytes);
        }
        lines = bytes / 64;
        region.fill((byte) 1); // fault every page in before measuring
        System.out.println("tier " + memory + ": " + hugeBytes(region.address(), bytes) + " of " + bytes
                + " bytes backed by huge pages" + (pool != null ? " (" + tier(pool.stats().tier()) + ")" : ""));
    }

    private static String tier(PoolStats.Tier t) {
        return "file page " + t.filePageSize() + ", huge pages " + t.hugePages();
    }

    /** Bytes of the mappings overlapping [address, address + length) that huge pages back, from /proc/self/smaps. */
    static long hugeBytes(long address, long length) throws IOException {
        long total = 0;
        boolean inside = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash > 0 && space > dash && line.substring(0, dash).chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                long lo = Long.parseUnsignedLong(line.substring(0, dash), 16);
                long hi = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
                inside = lo < address + length && hi > address;
            } else if (inside && (line.startsWith("AnonHugePages:") || line.startsWith("ShmemPmdMapped:")
                    || line.startsWith("FilePmdMapped:") || line.startsWith("Shared_Hugetlb:") || line.startsWith("Private_Hugetlb:"))) {
                total += Long.parseLong(line.trim().split("\\s+")[1]) * 1024;
            }
        }
        return total;
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

    /** One pass over the whole region; score is ms per pass. */
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
}
