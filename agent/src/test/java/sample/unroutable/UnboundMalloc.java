package sample.unroutable;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jvmem.agent.Jvmem;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Selected in a JVM of its own: a downcall handle of malloc's shape whose function address is its first argument;
 * which function it calls is known only at each call, so it is not routed.
 */
public final class UnboundMalloc {
    private UnboundMalloc() {
    }

    public static void main(String[] args) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MemorySegment malloc = linker.defaultLookup().find("malloc").orElseThrow();
        MethodHandle mallocAt = linker.downcallHandle(FunctionDescriptor.of(ADDRESS, JAVA_LONG));
        MethodHandle free = linker.downcallHandle(linker.defaultLookup().find("free").orElseThrow(), FunctionDescriptor.ofVoid(ADDRESS));
        MemorySegment p = (MemorySegment) mallocAt.invokeExact(malloc, 64L);
        System.out.println("in pool: " + Jvmem.pool("p").contains(p.address()));
        free.invokeExact(p);
    }
}
