package sample.reach;

import static java.lang.invoke.MethodType.methodType;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntFunction;
import sample.reachapi.Way;

/** ByteBuffer.allocateDirect reached every way a program can. */
public final class BufferWays {
    private BufferWays() {
    }

    @SuppressWarnings("static-access")
    public static Map<String, Way> ways() throws Throwable {
        Map<String, Way> ways = new LinkedHashMap<>();
        ways.put("allocateDirect: direct call", Way.ofBuffers(n -> ByteBuffer.allocateDirect(n)));
        ways.put("allocateDirect: named through MappedByteBuffer", Way.ofBuffers(n -> MappedByteBuffer.allocateDirect(n)));

        IntFunction<ByteBuffer> ref = ByteBuffer::allocateDirect;
        ways.put("allocateDirect: method reference", Way.ofBuffers(ref::apply));

        MethodHandles.Lookup lookup = MethodHandles.lookup();
        MethodHandle fs = lookup.findStatic(ByteBuffer.class, "allocateDirect", methodType(ByteBuffer.class, int.class));
        ways.put("allocateDirect: findStatic", Way.ofBuffers(n -> (ByteBuffer) fs.invokeExact(n)));

        MethodHandle pub = MethodHandles.publicLookup().findStatic(ByteBuffer.class, "allocateDirect",
                methodType(ByteBuffer.class, int.class));
        ways.put("allocateDirect: publicLookup().findStatic", Way.ofBuffers(n -> (ByteBuffer) pub.invokeExact(n)));

        // the looked-up handle made into a lambda by the program (fast-reflection code does this)
        java.util.function.IntFunction<?> lmf = (java.util.function.IntFunction<?>) java.lang.invoke.LambdaMetafactory.metafactory(
                lookup, "apply", methodType(java.util.function.IntFunction.class), methodType(Object.class, int.class), fs,
                methodType(ByteBuffer.class, int.class)).getTarget().invoke();
        ways.put("allocateDirect: findStatic + LambdaMetafactory.metafactory", Way.ofBuffers(n -> (ByteBuffer) lmf.apply(n)));

        Method allocateDirect = ByteBuffer.class.getMethod("allocateDirect", int.class);
        MethodHandle ur = lookup.unreflect(allocateDirect);
        ways.put("allocateDirect: unreflect", Way.ofBuffers(n -> (ByteBuffer) ur.invokeExact(n)));

        ways.put("allocateDirect: Method.invoke", Way.ofBuffers(n -> (ByteBuffer) allocateDirect.invoke(null, n)));
        return ways;
    }
}
