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
import org.openjdk.jmh.annotations.TearDown;
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
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
        "--add-opens=java.base/java.nio=ALL-UNNAMED"}) // only for wrapperOnly's handle to the buffer constructor
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

    /** A DRAM block to zero: the floor of any allocateDirect. */
    @State(Scope.Thread)
    public static class Block {
        long address;

        @Setup(Level.Trial)
        public void allocate() {
            address = Baselines.UNSAFE.allocateMemory(1 << 20);
        }

        @TearDown(Level.Trial)
        public void free() {
            Baselines.UNSAFE.freeMemory(address);
        }
    }

    /**
     * Zeroing {@code size} bytes the way the JDK's allocateDirect does ({@code Unsafe.setMemory}): the buffer contract
     * (a new buffer reads as zero) costs every implementation this much, ours and the JDK's alike.
     */
    @Benchmark
    public long zeroFill(Sized s, Block b) {
        Baselines.UNSAFE.setMemory(b.address, s.size, (byte) 0);
        return b.address;
    }

    /** The JDK's mapped-buffer constructor, which registers the JDK's internal cleaner (null if this JDK has none). */
    static final class BufferConstructor {
        static final java.lang.invoke.MethodHandle NEW;
        static final Runnable NOTHING = () -> { };

        static {
            java.lang.invoke.MethodHandle h = null;
            try {
                Class<?> c = Class.forName("java.nio.DirectByteBuffer");
                h = java.lang.invoke.MethodHandles.privateLookupIn(c, java.lang.invoke.MethodHandles.lookup()).findConstructor(c,
                        java.lang.invoke.MethodType.methodType(void.class, int.class, long.class, java.io.FileDescriptor.class,
                                Runnable.class, boolean.class, java.lang.foreign.MemorySegment.class));
                h = h.asType(h.type().changeReturnType(ByteBuffer.class));
            } catch (ReflectiveOperationException | RuntimeException e) {
                // reported as a missing result
            }
            NEW = h;
        }
    }

    /**
     * A direct buffer over existing memory with the JDK's cleaner, released with invokeCleaner: the part of an
     * allocateDirect that remains once allocation and zeroing cost nothing. The agent's buffers are built this way
     * (so that invokeCleaner works from every call shape); the JDK's own allocateDirect pays the same object and
     * cleaner costs.
     */
    @Benchmark
    public ByteBuffer wrapperOnly(Sized s, Block b) throws Throwable {
        if (BufferConstructor.NEW == null) {
            throw new IllegalStateException("no mapped-buffer constructor in this JDK");
        }
        ByteBuffer buf = (ByteBuffer) BufferConstructor.NEW.invokeExact(s.size, b.address, (java.io.FileDescriptor) null,
                BufferConstructor.NOTHING, false, (java.lang.foreign.MemorySegment) null);
        Baselines.UNSAFE.invokeCleaner(buf);
        return buf;
    }

    @Benchmark
    public ByteBuf nettyPooledDirectBuffer(Sized s) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(s.size);
        b.release();
        return b;
    }
}
