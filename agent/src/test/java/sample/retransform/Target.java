package sample.retransform;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.util.function.IntFunction;

/**
 * The routed class another agent retransforms again and again: three ways to a direct buffer, each its own site (a
 * call, a method reference, a handle looked up at run time, which the agent answers with a per-site trampoline).
 */
final class Target {
    private Target() {
    }

    static ByteBuffer call(int size) {
        return ByteBuffer.allocateDirect(size);
    }

    static ByteBuffer reference(int size) {
        IntFunction<ByteBuffer> f = ByteBuffer::allocateDirect;
        return f.apply(size);
    }

    static ByteBuffer handle(int size) throws Throwable {
        MethodHandle h = MethodHandles.lookup().findStatic(ByteBuffer.class, "allocateDirect",
                MethodType.methodType(ByteBuffer.class, int.class));
        return (ByteBuffer) h.invokeExact(size);
    }
}
