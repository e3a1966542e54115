package sample.reach;

import static java.lang.invoke.MethodType.methodType;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongConsumer;
import java.util.function.LongUnaryOperator;
import sample.reachapi.Way;
import sun.misc.Unsafe;

/** sun.misc.Unsafe allocateMemory / freeMemory reached every way a program can. */
public final class UnsafeWays {
    private static final Unsafe U = Way.UNSAFE;

    /** {@code Unsafe::allocateMemory}, receiver passed. */
    public interface UnboundAlloc {
        long allocate(Unsafe u, long size);
    }

    /** {@code Unsafe::freeMemory}, receiver passed. */
    public interface UnboundFree {
        void free(Unsafe u, long address);
    }

    private UnsafeWays() {
    }

    public static Map<String, Way> ways() throws Throwable {
        Map<String, Way> ways = new LinkedHashMap<>();
        ways.put("Unsafe: direct call", Way.of(n -> U.allocateMemory(n), a -> U.freeMemory(a)));
        ways.put("Unsafe: reallocateMemory from and to 0", Way.of(n -> U.reallocateMemory(0, n), a -> U.reallocateMemory(a, 0)));

        LongUnaryOperator boundAlloc = U::allocateMemory;
        LongConsumer boundFree = U::freeMemory;
        ways.put("Unsafe: bound method reference", Way.of(boundAlloc::applyAsLong, boundFree::accept));

        UnboundAlloc unboundAlloc = Unsafe::allocateMemory;
        UnboundFree unboundFree = Unsafe::freeMemory;
        ways.put("Unsafe: unbound method reference", Way.of(n -> unboundAlloc.allocate(U, n), a -> unboundFree.free(U, a)));

        MethodHandles.Lookup lookup = MethodHandles.lookup();
        MethodHandle fvAlloc = lookup.findVirtual(Unsafe.class, "allocateMemory", methodType(long.class, long.class));
        MethodHandle fvFree = lookup.findVirtual(Unsafe.class, "freeMemory", methodType(void.class, long.class));
        ways.put("Unsafe: findVirtual", Way.of(n -> (long) fvAlloc.invokeExact(U, n), a -> { fvFree.invokeExact(U, a); }));

        MethodHandle bAlloc = lookup.bind(U, "allocateMemory", methodType(long.class, long.class));
        MethodHandle bFree = lookup.bind(U, "freeMemory", methodType(void.class, long.class));
        ways.put("Unsafe: bind", Way.of(n -> (long) bAlloc.invokeExact(n), a -> { bFree.invokeExact(a); }));

        Method allocateMemory = Unsafe.class.getMethod("allocateMemory", long.class);
        Method freeMemory = Unsafe.class.getMethod("freeMemory", long.class);
        MethodHandle uAlloc = lookup.unreflect(allocateMemory);
        MethodHandle uFree = lookup.unreflect(freeMemory);
        ways.put("Unsafe: unreflect", Way.of(n -> (long) uAlloc.invokeExact(U, n), a -> { uFree.invokeExact(U, a); }));

        MethodHandles.Lookup inUnsafe = MethodHandles.privateLookupIn(Unsafe.class, lookup);
        MethodHandle pAlloc = inUnsafe.findVirtual(Unsafe.class, "allocateMemory", methodType(long.class, long.class));
        MethodHandle pFree = inUnsafe.findVirtual(Unsafe.class, "freeMemory", methodType(void.class, long.class));
        ways.put("Unsafe: privateLookupIn + findVirtual", Way.of(n -> (long) pAlloc.invokeExact(U, n), a -> { pFree.invokeExact(U, a); }));

        // invoke (not invokeExact) adapts the handle's type: the routed handle must keep it all the same
        ways.put("Unsafe: findVirtual + invoke with boxing", Way.of(n -> (Long) fvAlloc.invoke(U, Long.valueOf(n)),
                a -> fvFree.invoke(U, Long.valueOf(a))));

        // a looked-up handle made into a lambda by the program itself (fast-reflection libraries do this)
        MethodType unboundAllocType = methodType(long.class, Unsafe.class, long.class);
        UnboundAlloc lmfAlloc = (UnboundAlloc) java.lang.invoke.LambdaMetafactory.metafactory(lookup, "allocate",
                methodType(UnboundAlloc.class), unboundAllocType, fvAlloc, unboundAllocType).getTarget().invoke();
        MethodType unboundFreeType = methodType(void.class, Unsafe.class, long.class);
        UnboundFree lmfFree = (UnboundFree) java.lang.invoke.LambdaMetafactory.metafactory(lookup, "free",
                methodType(UnboundFree.class), unboundFreeType, fvFree, unboundFreeType).getTarget().invoke();
        ways.put("Unsafe: findVirtual + LambdaMetafactory.metafactory", Way.of(n -> lmfAlloc.allocate(U, n), a -> lmfFree.free(U, a)));

        ways.put("Unsafe: Method.invoke", Way.of(n -> (long) allocateMemory.invoke(U, n), a -> freeMemory.invoke(U, a)));
        return ways;
    }
}
