package sample.unroutable;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jvmem.agent.Jvmem;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Method;

/**
 * Selected in a JVM of its own: a handle to malloc made by {@code Method.invoke} of {@code Linker.downcallHandle}. The
 * call is caller-sensitive, so the agent leaves it in place: malloc is not routed, and that is reported.
 */
public final class ReflectedMalloc {
    private ReflectedMalloc() {
    }

    public static void main(String[] args) throws Throwable {
        Linker linker = Linker.nativeLinker();
        Method downcallHandle = Linker.class.getMethod("downcallHandle", MemorySegment.class, FunctionDescriptor.class,
                Linker.Option[].class);
        MethodHandle malloc = (MethodHandle) downcallHandle.invoke(linker, linker.defaultLookup().find("malloc").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, JAVA_LONG), new Linker.Option[0]);
        MethodHandle free = linker.downcallHandle(linker.defaultLookup().find("free").orElseThrow(), FunctionDescriptor.ofVoid(ADDRESS));
        MemorySegment p = (MemorySegment) malloc.invokeExact(64L);
        System.out.println("in pool: " + Jvmem.pool("p").contains(p.address()));
        free.invokeExact(p);
    }
}
