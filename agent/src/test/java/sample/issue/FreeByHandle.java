package sample.issue;

import static java.lang.invoke.MethodType.methodType;

import io.jvmem.agent.Jvmem;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Field;
import sun.misc.Unsafe;

/**
 * The issue's program: a class no route selects frees a pool address through {@code Unsafe.freeMemory} found with
 * {@code findVirtual} (as libraries free memory they did not allocate). Without the agent's pool-aware handle, the
 * address reaches free(3): "free(): invalid pointer", SIGABRT, exit code 134.
 */
public final class FreeByHandle {
    private FreeByHandle() {
    }

    public static void main(String[] args) throws Throwable {
        Field f = Unsafe.class.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        Unsafe u = (Unsafe) f.get(null);
        MethodHandle freeMemory = MethodHandles.lookup().findVirtual(Unsafe.class, "freeMemory", methodType(void.class, long.class));
        long a = Allocate.allocateMemory(u, 4096);
        System.out.println("in pool: " + Jvmem.pool("p").contains(a));
        freeMemory.invokeExact(u, a);
        System.out.println("in use after free: " + Jvmem.pool("p").stats().allocated());
    }
}
