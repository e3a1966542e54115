package sample.routed;

import java.nio.ByteBuffer;
import java.util.function.IntFunction;
import java.util.function.LongUnaryOperator;
import java.util.function.Supplier;
import sun.misc.Unsafe;

/** Selected by the integration tests' route: every allocation shape, rewritten at load time. */
public final class Buffers {
    public static final ByteBuffer STATIC = ByteBuffer.allocateDirect(1000);
    public final ByteBuffer fromConstructor;

    public Buffers(int n) {
        fromConstructor = ByteBuffer.allocateDirect(n);
    }

    public static ByteBuffer allocate(int n) {
        return ByteBuffer.allocateDirect(n);
    }

    public static IntFunction<ByteBuffer> methodRef() {
        return ByteBuffer::allocateDirect;
    }

    public static Supplier<ByteBuffer> lambda(int n) {
        return () -> ByteBuffer.allocateDirect(n);
    }

    public static long allocateMemory(Unsafe u, long n) {
        return u.allocateMemory(n);
    }

    public static long reallocateMemory(Unsafe u, long address, long n) {
        return u.reallocateMemory(address, n);
    }

    public static LongUnaryOperator allocateMemoryRef(Unsafe u) {
        return u::allocateMemory;
    }

    public static void clean(Unsafe u, ByteBuffer b) {
        u.invokeCleaner(b);
    }
}
