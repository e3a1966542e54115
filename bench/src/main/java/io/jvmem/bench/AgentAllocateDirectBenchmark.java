package io.jvmem.bench;

import io.jvmem.bench.routed.Routed;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.ByteBuffer;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code ByteBuffer.allocateDirect} as an unmodified program calls it, released at once with
 * {@code Unsafe.invokeCleaner} or left to the garbage collector. The call sits in {@link Routed}: bench/run runs this
 * class twice, once in forks started with the agent and a route including {@code io.jvmem.bench.routed} (variant
 * "pool", checked at setup) and once without (variant "JDK"), and the results page pairs the two runs. Netty's
 * pooled allocator, the peer a user would pick instead, is not routed and runs in the JDK run.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class AgentAllocateDirectBenchmark {

    @State(Scope.Thread)
    public static class Sized {
        @Param({"64", "4096", "65536", "1048576"})
        public int size;

        @Setup(Level.Trial)
        public void check() {
            ByteBuffer b = Routed.allocateDirect(size);
            RoutingCheck.check(b);
            Baselines.UNSAFE.invokeCleaner(b);
        }
    }

    /** Fixed 4 KiB for the release-by-GC variant. */
    @State(Scope.Thread)
    public static class Gc {
        @Setup(Level.Trial)
        public void check() {
            RoutingCheck.check(Routed.allocateDirect(4096));
        }
    }

    @Benchmark
    public ByteBuffer allocateDirectInvokeCleaner(Sized s) {
        ByteBuffer b = Routed.allocateDirect(s.size);
        Baselines.UNSAFE.invokeCleaner(b);
        return b;
    }

    /** 4 KiB, the buffer is dropped: its memory comes back when the collector runs its cleaner. */
    @Benchmark
    public ByteBuffer allocateDirectGcRelease(Gc g) {
        return Routed.allocateDirect(4096);
    }

    @Benchmark
    public ByteBuf nettyPooledDirectBuffer(Sized s) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(s.size);
        b.release();
        return b;
    }
}
