package io.jvmem.bench;

import io.jvmem.bench.routed.Routed;
import java.lang.foreign.Arena;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Method;
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
 * What the agent's newer reach costs: {@code java.lang.foreign} arenas routed to a pool, and, on the path that never
 * touches a pool, a {@code freeMemory} handle looked up at run time and a {@code Method.invoke} of a member the agent
 * does not intercept. The calls sit in {@link Routed}; bench/run runs this class twice, in forks started with the agent
 * and a route including {@code io.jvmem.bench.routed} (variant "pool", checked at setup) and in forks without (variant
 * "jdk"), and the results page pairs the two runs, as for {@link AgentAllocateDirectBenchmark}. The floors
 * ({@code zeroFill}, {@code openClose*}) are the parts any implementation pays; they run in the JDK forks.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class AgentReachBenchmark {

    @State(Scope.Thread)
    public static class Sized {
        @Param({"64", "4096", "65536", "1048576"})
        public long size;

        @Setup(Level.Trial)
        public void check() {
            RoutingCheck.check(Routed.confinedArena(size));
        }
    }

    /** Fixed 4 KiB for the shared arena. */
    @State(Scope.Thread)
    public static class Shared {
        @Setup(Level.Trial)
        public void check() {
            RoutingCheck.check(Routed.sharedArena(4096));
        }
    }

    /**
     * {@code Arena.ofConfined()}, {@code allocate(size)}, {@code close()}: the segment is zeroed and aligned by either
     * side; the agent's comes from the pool and goes back to it when the arena closes.
     */
    @Benchmark
    public long confinedArena(Sized s) {
        return Routed.confinedArena(s.size);
    }

    /** The same with {@code Arena.ofShared()} at 4 KiB. */
    @Benchmark
    public long sharedArena(Shared s) {
        return Routed.sharedArena(4096);
    }

    /** Floor: a confined arena opened and closed with nothing allocated in it. */
    @Benchmark
    public Arena openCloseConfined() {
        Arena a = Arena.ofConfined();
        a.close();
        return a;
    }

    /** Floor: a shared arena opened and closed with nothing allocated in it. */
    @Benchmark
    public Arena openCloseShared() {
        Arena a = Arena.ofShared();
        a.close();
        return a;
    }

    /** A DRAM block to zero. */
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

    /** Floor: zeroing {@code size} bytes, which {@code Arena.allocate} owes its caller. */
    @Benchmark
    public long zeroFill(Sized s, Block b) {
        Baselines.UNSAFE.setMemory(b.address, s.size, (byte) 0);
        return b.address;
    }

    /** Handles and methods as a program keeps them: in static finals. */
    static final class Members {
        static final MethodHandle FREE;
        static final Method NEXT;
        static final Method ALLOCATE_MEMORY;

        static {
            try {
                FREE = Routed.freeMemoryHandle();
                NEXT = AgentReachBenchmark.class.getMethod("next", int.class);
                ALLOCATE_MEMORY = sun.misc.Unsafe.class.getMethod("allocateMemory", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }

    /** The method {@link #methodInvoke} calls reflectively: nothing the agent intercepts. */
    public static int next(int x) {
        return x + 1;
    }

    /**
     * Checks, in the pool variant, that Routed's lookup and {@code Method.invoke} are rewritten: a pool block from a
     * routed reflective {@code allocateMemory} is freed through the looked-up handle (the JDK's own handle would hand
     * the pool address to free(3), and glibc would abort the JVM).
     */
    @State(Scope.Thread)
    public static class NonPool {
        final Object[] args = {41};

        @Setup(Level.Trial)
        public void check() throws Throwable {
            long a = (long) Routed.invoke(Members.ALLOCATE_MEMORY, Baselines.UNSAFE, 64L);
            RoutingCheck.check(a);
            Members.FREE.invokeExact(Baselines.UNSAFE, a);
        }
    }

    /**
     * 64 bytes of DRAM from {@code Unsafe.allocateMemory} (not routed: this class is outside the route), freed through
     * the handle {@code Lookup.findVirtual(Unsafe, "freeMemory")} returned: under the agent a pool-aware handle that
     * finds the address outside every pool and calls the JDK's.
     */
    @Benchmark
    public long handleFreeMemory(NonPool n) throws Throwable {
        long a = Baselines.UNSAFE.allocateMemory(64);
        Members.FREE.invokeExact(Baselines.UNSAFE, a);
        return a;
    }

    /** The same pair as direct calls; under the agent the freeMemory call site is pool-aware (every class's is). */
    @Benchmark
    public long directFreeMemory(NonPool n) {
        long a = Baselines.UNSAFE.allocateMemory(64);
        Baselines.UNSAFE.freeMemory(a);
        return a;
    }

    /**
     * {@code Method.invoke} of {@link #next} from Routed: under the agent the call site first passes the method and
     * receiver through two static calls that find nothing to substitute.
     */
    @Benchmark
    public Object methodInvoke(NonPool n) throws Exception {
        return Routed.invoke(Members.NEXT, null, n.args);
    }
}
