package sample.rewrite;

import java.nio.ByteBuffer;
import java.util.function.IntFunction;
import java.util.function.LongConsumer;
import java.util.function.LongUnaryOperator;
import java.util.function.Supplier;
import sun.misc.Unsafe;

/** Every call shape the rewriter handles (compiled by javac, rewritten in tests). */
public class Shapes {
    public interface UnsafeAllocator {
        long allocate(Unsafe u, long size);
    }

    public static final ByteBuffer STATIC = ByteBuffer.allocateDirect(16);
    public final ByteBuffer field;

    public Shapes() {
        field = ByteBuffer.allocateDirect(32);
    }

    public static ByteBuffer direct(int n) {
        return ByteBuffer.allocateDirect(n);
    }

    /** Static methods are inherited: this call names MappedByteBuffer. */
    @SuppressWarnings("static-access")
    public static ByteBuffer viaSubclass(int n) {
        return java.nio.MappedByteBuffer.allocateDirect(n);
    }

    public static Supplier<ByteBuffer> lambda() {
        return () -> ByteBuffer.allocateDirect(8);
    }

    public static IntFunction<ByteBuffer> methodRef() {
        return ByteBuffer::allocateDirect;
    }

    public static LongUnaryOperator boundAllocateMemory(Unsafe u) {
        return u::allocateMemory;
    }

    public static UnsafeAllocator unboundAllocateMemory() {
        return Unsafe::allocateMemory;
    }

    public static long unsafeCalls(Unsafe u) {
        long a = u.allocateMemory(8);
        a = u.reallocateMemory(a, 16);
        u.freeMemory(a);
        return a;
    }

    public static LongConsumer freeRef(Unsafe u) {
        return u::freeMemory;
    }

    public static void clean(Unsafe u, ByteBuffer b) {
        u.invokeCleaner(b);
    }
}
