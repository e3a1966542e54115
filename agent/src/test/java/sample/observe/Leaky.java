package sample.observe;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Field;
import sun.misc.Unsafe;

/**
 * Leaks known amounts at known sites, then waits {@code args[0]} ms so the oldest block has an age: 3 × 1000 bytes of
 * Unsafe memory at {@link #small}, 2 × 5000 at {@link #large}, 1 × 777 bytes of libc malloc through a downcall at
 * {@link #libc}, 1 × 300 bytes of the JDK's global arena at {@link #global}; and frees everything it allocates at {@link #balanced}, which must not be reported.
 */
public final class Leaky {
    private static final Unsafe U;

    static {
        try {
            Field f = Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            U = (Unsafe) f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static long small() {
        return U.allocateMemory(1000);
    }

    static long large() {
        return U.allocateMemory(5000);
    }

    static void balanced() {
        long a = U.allocateMemory(4096);
        U.freeMemory(a);
        long b = U.allocateMemory(100);
        b = U.reallocateMemory(b, 200_000);
        U.freeMemory(b);
    }

    static MemorySegment libc() throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle malloc = linker.downcallHandle(linker.defaultLookup().find("malloc").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
        return (MemorySegment) malloc.invokeExact(777L);
    }

    public static void main(String[] args) throws Throwable {
        for (int i = 0; i < 3; i++) {
            small();
        }
        for (int i = 0; i < 2; i++) {
            large();
        }
        for (int i = 0; i < 10; i++) {
            balanced();
        }
        libc();
        global();
        Thread.sleep(Long.parseLong(args[0]));
        System.out.println("done");
    }

    static MemorySegment global() {
        return java.lang.foreign.Arena.global().allocate(300);
    }
}
