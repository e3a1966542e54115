package sample.sites;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.invoke.MethodType.methodType;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Field;
import sun.misc.Unsafe;

/**
 * Selected in a JVM of its own: allocates through a looked-up handle and a malloc downcall handle, and makes downcall
 * handles to free and strlen, which allocate nothing. Prints the line of each.
 */
public final class ReportedSites {
    private ReportedSites() {
    }

    public static void main(String[] args) throws Throwable {
        Field f = Unsafe.class.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        Unsafe u = (Unsafe) f.get(null);
        Linker linker = Linker.nativeLinker();
        MethodHandle allocateMemory = MethodHandles.lookup().findVirtual(Unsafe.class, "allocateMemory", methodType(long.class, long.class));
        System.out.println("lookup " + line());
        MethodHandle malloc = linker.downcallHandle(linker.defaultLookup().find("malloc").orElseThrow(), FunctionDescriptor.of(ADDRESS, JAVA_LONG));
        System.out.println("malloc " + line());
        MethodHandle free = linker.downcallHandle(linker.defaultLookup().find("free").orElseThrow(), FunctionDescriptor.ofVoid(ADDRESS));
        System.out.println("free " + line());
        MethodHandle strlen = linker.downcallHandle(linker.defaultLookup().find("strlen").orElseThrow(), FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        System.out.println("strlen " + line());
        long a = (long) allocateMemory.invokeExact(u, 100L);
        long b = (long) allocateMemory.invokeExact(u, 200L);
        MemorySegment p = (MemorySegment) malloc.invokeExact(64L);
        try (Arena arena = Arena.ofConfined()) {
            long n = (long) strlen.invokeExact(arena.allocateFrom("four"));
            System.out.println("strlen " + n);
        }
        free.invokeExact(p);
        u.freeMemory(a);
        u.freeMemory(b);
    }

    /** The line before the caller's: the statement the printed line names. */
    private static int line() {
        return StackWalker.getInstance().walk(s -> s.skip(1).findFirst()).orElseThrow().getLineNumber() - 1;
    }
}
