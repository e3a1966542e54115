package sample.calls;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jvmem.agent.Jvmem;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import sun.misc.Unsafe;

/** Selected in a JVM of its own: one allocation of each kind a route's calls names; prints which came from pool p. */
public final class EveryCall {
    private EveryCall() {
    }

    public static void main(String[] args) throws Throwable {
        Field f = Unsafe.class.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        Unsafe u = (Unsafe) f.get(null);
        ByteBuffer b = ByteBuffer.allocateDirect(64);
        long m = u.allocateMemory(64);
        Linker linker = Linker.nativeLinker();
        MethodHandle malloc = linker.downcallHandle(linker.defaultLookup().find("malloc").orElseThrow(), FunctionDescriptor.of(ADDRESS, JAVA_LONG));
        MethodHandle free = linker.downcallHandle(linker.defaultLookup().find("free").orElseThrow(), FunctionDescriptor.ofVoid(ADDRESS));
        MemorySegment d = (MemorySegment) malloc.invokeExact(64L);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(64);
            System.out.println("allocateDirect=" + inPool(MemorySegment.ofBuffer(b).address()) + " allocateMemory=" + inPool(m)
                    + " arena=" + inPool(s.address()) + " downcall=" + inPool(d.address()));
        }
        u.freeMemory(m);
        free.invokeExact(d);
    }

    private static boolean inPool(long address) {
        return Jvmem.pool("p").contains(address);
    }
}
