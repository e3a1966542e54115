package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jvmem.allocator.InvalidFreeException;
import io.jvmem.allocator.MemoryPool;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sun.misc.Unsafe;

/**
 * A pool address freed through {@code sun.misc.Unsafe} by JDK code acting for the program — not a call site of the
 * program's, so no rewriting sees it — returns to its pool instead of reaching free(3) ("free(): invalid pointer",
 * exit 134). Runs under the real agent jar (failsafe); each test proves the free happened in the pool: freeing the
 * block again there is refused as a double free.
 */
@org.junit.jupiter.api.Tag("integration")
class JdkMediatedFreeIT {
    private static final Unsafe U = TheUnsafe.U;

    private static MemoryPool pool() {
        return Jvmem.pool("it");
    }

    private static long poolBlock() {
        long p = pool().malloc(4096);
        assertNotEquals(0, p);
        return p;
    }

    private static void assertFreedInThePool(long p) {
        assertThrows(InvalidFreeException.class, () -> pool().free(p), "the block was not returned to its pool");
    }

    private static final MethodType FREE = MethodType.methodType(void.class, long.class);

    @Test
    @Timeout(30)
    void methodInvokeOfMethodInvokeFreesAPoolAddressInItsPool() throws Exception {
        long p = poolBlock();
        Method free = Unsafe.class.getMethod("freeMemory", long.class);
        Method invoke = Method.class.getMethod("invoke", Object.class, Object[].class);
        invoke.invoke(free, U, new Object[] {p}); // the inner Method.invoke is the JDK's call, not ours
        assertFreedInThePool(p);
    }

    @Test
    @Timeout(30)
    void aHandleToLookupFindVirtualGivesAPoolAwareFree() throws Throwable {
        long p = poolBlock();
        MethodHandle findVirtual = MethodHandles.lookup().findVirtual(MethodHandles.Lookup.class, "findVirtual",
                MethodType.methodType(MethodHandle.class, Class.class, String.class, MethodType.class));
        MethodHandle free = (MethodHandle) findVirtual.invoke(MethodHandles.lookup(), Unsafe.class, "freeMemory", FREE);
        free.invokeExact(U, p);
        assertFreedInThePool(p);
    }

    @Test
    @Timeout(30)
    void javaBeansExpressionFreesAPoolAddressInItsPool() throws Exception {
        long p = poolBlock();
        new java.beans.Statement(U, "freeMemory", new Object[] {p}).execute();
        assertFreedInThePool(p);
    }

    @Test
    @Timeout(30)
    void reallocateMemoryReachedByTheJdkResizesAPoolBlockInItsPool() throws Exception {
        long p = poolBlock();
        Method realloc = Unsafe.class.getMethod("reallocateMemory", long.class, long.class);
        Method invoke = Method.class.getMethod("invoke", Object.class, Object[].class);
        long q = (long) invoke.invoke(realloc, U, new Object[] {p, 8192L});
        org.junit.jupiter.api.Assertions.assertTrue(pool().contains(q), "resized in its pool");
        pool().free(q);
    }
}
