package sample.reach;

import static java.lang.invoke.MethodType.methodType;

import java.io.InputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import sample.reachapi.Way;

/** Allocations and frees in a hidden class defined from {@link HiddenBody}'s bytes. */
public final class HiddenWays {
    private HiddenWays() {
    }

    public static Map<String, Way> ways() throws Throwable {
        byte[] bytes;
        try (InputStream in = HiddenWays.class.getResourceAsStream("HiddenBody.class")) {
            bytes = in.readAllBytes();
        }
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        Class<?> hidden = lookup.defineHiddenClass(bytes, true).lookupClass();
        Class<?> withData = lookup.defineHiddenClassWithClassData(bytes, "data", true).lookupClass();
        Map<String, Way> ways = new LinkedHashMap<>();
        ways.put("hidden class: Unsafe", unsafe(lookup, hidden));
        ways.put("hidden class: allocateDirect", buffers(lookup, hidden));
        ways.put("hidden class with class data: Unsafe", unsafe(lookup, withData));
        return ways;
    }

    private static Way unsafe(MethodHandles.Lookup lookup, Class<?> hidden) throws ReflectiveOperationException {
        MethodHandle allocate = lookup.findStatic(hidden, "allocate", methodType(long.class, long.class));
        MethodHandle free = lookup.findStatic(hidden, "free", methodType(void.class, long.class));
        return Way.of(n -> (long) allocate.invokeExact(n), a -> { free.invokeExact(a); });
    }

    private static Way buffers(MethodHandles.Lookup lookup, Class<?> hidden) throws ReflectiveOperationException {
        MethodHandle buffer = lookup.findStatic(hidden, "buffer", methodType(ByteBuffer.class, int.class));
        return Way.ofBuffers(n -> (ByteBuffer) buffer.invokeExact(n));
    }
}
