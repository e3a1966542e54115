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

    /**
     * Whether a call through a handle whose function address is its first argument is a call of {@code expected}
     * (libc's free or realloc) on a pool block: only such a call needs the pool; every other goes to the program's own
     * handle, with its own arguments.
     */
    public static boolean poolBlockAt(long expected, long function, long p) {
        return function == expected && p != 0 && Bridge.h.owns(p);
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

    /** A returned address as the program's handle gives it: a segment of the return layout's target size. */
    public static MemorySegment segment(long targetSize, long address) {
        MemorySegment s = MemorySegment.ofAddress(address);
        return targetSize > 0 ? s.reinterpret(targetSize) : s;
    }
}
