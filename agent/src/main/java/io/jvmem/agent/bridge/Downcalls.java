package io.jvmem.agent.bridge;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Pool-aware and routed stand-ins for downcall handles to libc's allocation functions (renamed
 * {@code java.nio.JvmemDowncalls}). The agent adapts each to the program's handle type; here every address is a
 * {@code long} and {@code libc} is the program's own handle in that form. A pool address never reaches libc's
 * free or realloc; from a routed site, malloc/calloc/realloc(NULL)/aligned_alloc/posix_memalign take pool memory
 * and fall back to libc as the route says. Semantics follow malloc(3).
 */
public final class Downcalls {
    private Downcalls() {
    }

    public static void free(MethodHandle libc, long p) throws Throwable {
        if (p != 0 && Bridge.h.free(p)) {
            return;
        }
        libc.invokeExact(p);
    }

    public static long malloc(MethodHandle libc, int site, long size) throws Throwable {
        long a = Bridge.poolBlock(size, site);
        return a != 0 ? a : (long) libc.invokeExact(size);
    }

    public static long calloc(MethodHandle libc, int site, long count, long size) throws Throwable {
        long a = count > 0 && size > 0 && count <= Long.MAX_VALUE / size
                ? Bridge.h.allocateSegment(site, count * size, 16, true) : 0;
        return a != 0 ? a : (long) libc.invokeExact(count, size);
    }

    public static long alignedAlloc(MethodHandle libc, int site, long alignment, long size) throws Throwable {
        long a = size > 0 && alignment > 0 && (alignment & (alignment - 1)) == 0
                ? Bridge.h.allocateSegment(site, size, alignment, false) : 0;
        return a != 0 ? a : (long) libc.invokeExact(alignment, size);
    }

    public static int posixMemalign(MethodHandle libc, int site, long memptr, long alignment, long size) throws Throwable {
        long a = memptr != 0 && size > 0 && alignment >= 8 && (alignment & (alignment - 1)) == 0
                ? Bridge.h.allocateSegment(site, size, alignment, false) : 0;
        if (a == 0) {
            return (int) libc.invokeExact(memptr, alignment, size);
        }
        MemorySegment.ofAddress(memptr).reinterpret(8).set(ValueLayout.JAVA_LONG, 0, a);
        return 0;
    }

    /** realloc(3): a pool block is resized in its pool, or moved to libc's memory when the pool has no room. */
    public static long realloc(MethodHandle libc, int site, long p, long size) throws Throwable {
        if (p != 0 && Bridge.h.owns(p)) {
            long r = Bridge.resizePoolBlock(p, size, site); // size 0 frees; throws when the route says fail
            if (r != Bridge.NO_ROOM) {
                return r;
            }
            long to = (long) libc.invokeExact(0L, size);
            return to == 0 ? 0 : Bridge.movedToDram(p, size, to);
        }
        if (p == 0) {
            long a = Bridge.poolBlock(size, site);
            if (a != 0) {
                return a;
            }
        }
        return (long) libc.invokeExact(p, size);
    }

    /** free(3) through a handle whose function address is its first argument. */
    public static void freeAt(MethodHandle libc, long free, long function, long p) throws Throwable {
        if (function == free && p != 0 && Bridge.h.free(p)) {
            return;
        }
        libc.invokeExact(function, p);
    }

    /** realloc(3) through a handle whose function address is its first argument (no route: pool-aware only). */
    public static long reallocAt(MethodHandle libc, long realloc, long function, long p, long size) throws Throwable {
        if (function != realloc || p == 0 || !Bridge.h.owns(p)) {
            return (long) libc.invokeExact(function, p, size);
        }
        long r = Bridge.resizePoolBlock(p, size, 0);
        if (r != Bridge.NO_ROOM) {
            return r;
        }
        long to = (long) libc.invokeExact(function, 0L, size);
        return to == 0 ? 0 : Bridge.movedToDram(p, size, to);
    }

    /**
     * A segment argument's address, after the checks the JDK's downcall makes on it (a heap segment, a closed arena's
     * segment and a confined segment on another thread are refused with the JDK's exceptions), so that the adapted
     * handle never passes libc or the pool an address the JDK would not.
     */
    public static long address(MemorySegment s) {
        if (!s.isNative()) {
            throw new IllegalArgumentException("Heap segment not allowed: " + s);
        }
        if (!s.scope().isAlive()) {
            throw new IllegalStateException("Already closed");
        }
        if (!s.isAccessibleBy(Thread.currentThread())) {
            throw new WrongThreadException("Attempted access outside owning thread");
        }
        return s.address();
    }

    /**
     * A segment argument's address if the JDK's downcall would accept it, else 0: the test of a handle that calls the
     * program's own handle for any other address, so that the JDK refuses what it refuses.
     */
    public static long candidate(MemorySegment s) {
        return s.isNative() && s.scope().isAlive() && s.isAccessibleBy(Thread.currentThread()) ? s.address() : 0;
    }

    /** Frees {@code p} in its pool if it is a pool block: true, and the program's handle is not called. */
    public static boolean freedInPool(long p) {
        return p != 0 && Bridge.h.free(p);
    }

    /** As {@link #freedInPool(long)}, for a handle whose function address is its first argument. */
    public static boolean freedInPoolAt(long free, long function, long p) {
        return function == free && freedInPool(p);
    }

    /**
     * Whether a call through a handle whose function address is its first argument is a call of {@code realloc} (or
     * libc's free) on a pool block: only such a call needs the pool; every other goes to the program's own handle.
     */
    public static boolean ownedAt(long realloc, long function, long p) {
        return function == realloc && p != 0 && Bridge.h.owns(p);
    }

    /** Whether {@code p} is a pool block. */
    public static boolean owned(long p) {
        return p != 0 && Bridge.h.owns(p);
    }

    /** A returned address as the program's handle gives it: a segment of the return layout's target size. */
    public static MemorySegment segment(long targetSize, long address) {
        MemorySegment s = MemorySegment.ofAddress(address);
        return targetSize > 0 ? s.reinterpret(targetSize) : s;
    }
}
