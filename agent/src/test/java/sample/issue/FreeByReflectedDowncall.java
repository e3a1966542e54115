package sample.issue;

import static java.lang.foreign.ValueLayout.ADDRESS;

import io.jvmem.agent.Jvmem;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import sun.misc.Unsafe;

/**
 * A class no route selects frees a pool address through libc's free, with a handle made by {@code Method.invoke} of
 * {@code Linker.downcallHandle} (no call of it for the rewriter to see). Before the agent patched the JDK's linker the
 * address reached free(3): "double free or corruption", SIGABRT, exit code 134.
 */
public final class FreeByReflectedDowncall {
    private FreeByReflectedDowncall() {
    }

    public static void main(String[] args) throws Throwable {
        Field f = Unsafe.class.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        Unsafe u = (Unsafe) f.get(null);
        Linker linker = Linker.nativeLinker();
        Method downcallHandle = Linker.class.getMethod("downcallHandle", MemorySegment.class, FunctionDescriptor.class,
                Linker.Option[].class);
        MethodHandle free = (MethodHandle) downcallHandle.invoke(linker, linker.defaultLookup().find("free").orElseThrow(),
                FunctionDescriptor.ofVoid(ADDRESS), new Linker.Option[0]);
        long a = Allocate.allocateMemory(u, 4096);
        System.out.println("in pool: " + Jvmem.pool("p").contains(a));
        free.invokeExact(MemorySegment.ofAddress(a));
        System.out.println("in use after free: " + Jvmem.pool("p").stats().allocated());
    }
}
