package io.jvmem.agent.bridge;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Pool-aware and routed stand-ins for downcall handles to libc's allocation functions (renamed
 * {@code java.nio.JvmemDowncalls}). The agent adapts each to the program's handle type; here addresses are
 * {@code long}s and {@code libc} is the program's own handle in that form. A pool address never reaches libc's
 * free, realloc or reallocarray; from a routed site, malloc/calloc/realloc(NULL)/aligned_alloc/posix_memalign take
 * pool memory and fall back to libc as the route says. Semantics follow malloc(3).
 *
 * <p>Frees and reallocations are guarded: a test on the call's own arguments ({@link #freedInPool},
 * {@link #reallocTakes}) decides whether the pool takes the call; every other call runs the program's own handle with
 * its own arguments, so the JDK checks and passes them exactly as without the agent.
 */
public final class Downcalls {
    /** What {@link #candidate} gives for a segment the JDK would not pass as a native address: never a pool block. */
    private static final long REFUSED = -1;

    private Downcalls() {
    }

    /**
     * The size passed to the program's own handle when the pool is full and the route fails ({@link Hooks#FULL}):
     * SIZE_MAX, which libc refuses itself, so the call returns NULL (posix_memalign: ENOMEM) and errno is libc's ENOMEM.
     */
    private static final long ENOMEM_SIZE = -1;

    /** The size for the program's own handle after the pool's answer {@code a}: {@code size}, or SIZE_MAX after FULL. */
    private static long libcSize(long a, long size) {
        return a == Hooks.FULL ? ENOMEM_SIZE : size;
    }

    public static long malloc(MethodHandle libc, int site, long size) throws Throwable {
        long a = Bridge.poolBlock(size, site);
        return a > 0 ? a : (long) libc.invokeExact(libcSize(a, size));
    }

    public static long calloc(MethodHandle libc, int site, long count, long size) throws Throwable {
        long a = count > 0 && size > 0 && count <= Long.MAX_VALUE / size
                ? Bridge.h.allocateSegment(site, count * size, 16, true) : 0;
        return a > 0 ? a : (long) libc.invokeExact(libcSize(a, count), libcSize(a, size));
    }

    public static long alignedAlloc(MethodHandle libc, int site, long alignment, long size) throws Throwable {
        long a = size > 0 && alignment > 0 && (alignment & (alignment - 1)) == 0
                ? Bridge.h.allocateSegment(site, size, alignment, false) : 0;
        return a > 0 ? a : (long) libc.invokeExact(alignment, libcSize(a, size));
    }

    /** pvalloc(3)'s size: {@code size} rounded up to whole pages, at least one (its libc call gets the same size). */
    public static long pageRounded(long page, long size) {
        return size == 0 ? page : size > 0 && size <= Long.MAX_VALUE - page ? (size + page - 1) & -page : size;
    }

    /**
     * posix_memalign(3) with the program's {@code memptr} segment as given: {@code heap} when the handle was made with
     * {@code Linker.Option.critical(true)}, where the JDK passes a heap segment's array to libc, which writes the
     * pointer into it; the pool block is written there in the same way. Any call the pool does not serve (a segment
     * the JDK refuses included) is the program's own handle {@code libc} with its own arguments.
     */
    public static int posixMemalign(MethodHandle libc, int site, boolean heap, MemorySegment memptr, long alignment,
                                    long size) throws Throwable {
        long a = size > 0 && alignment >= 8 && (alignment & (alignment - 1)) == 0 && writable(memptr, heap)
                ? Bridge.h.allocateSegment(site, size, alignment, false) : 0;
        if (a <= 0) {
            return (int) libc.invokeExact(memptr, alignment, libcSize(a, size));
        }
        // libc writes the 8 bytes at memptr whatever the segment's size or alignment; a heap array holds them
        MemorySegment to = memptr.isNative() ? MemorySegment.ofAddress(memptr.address()).reinterpret(8) : memptr;
        to.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, a);
        return 0;
    }

    /** Whether the JDK passes {@code memptr} to libc and libc can write a pointer there (else the JDK's own handle runs). */
    private static boolean writable(MemorySegment memptr, boolean heap) {
        if (memptr.isNative()) {
            return memptr.address() != 0 && memptr.scope().isAlive() && memptr.isAccessibleBy(Thread.currentThread());
        }
        return heap && memptr.byteSize() >= 8 && !memptr.isReadOnly();
    }

    /**
     * realloc(3) or reallocarray(3) of a pool block, or of NULL at a routed {@code site}, once {@link #reallocTakes}
     * said so: resized in its pool, or moved to libc's memory when the pool has no room. {@code libc} is the program's
     * own handle as {@code (function, state, p, count, size) long} ({@code count} 1 for realloc): libc allocates
     * through it with {@code p} NULL, so a failure is libc's own, with its {@code errno} in the program's call-state
     * segment ({@code Linker.Option.captureCallState}) and the pool block left as it was.
     */
    public static long realloc(MethodHandle libc, int site, MemorySegment function, MemorySegment state, long p,
                               long count, long size) throws Throwable {
        long bytes = Math.unsignedMultiplyHigh(count, size) == 0 ? count * size : -1; // size_t, overflow: too large
        if (p == 0) {
            long a = bytes > 0 ? Bridge.poolBlock(bytes, site) : 0;
            return a > 0 ? a : a == Hooks.FULL ? (long) libc.invokeExact(function, state, 0L, 1L, ENOMEM_SIZE)
                    : (long) libc.invokeExact(function, state, 0L, count, size);
        }
        long r = bytes >= 0 ? Bridge.resizePoolBlock(p, bytes, site) : Bridge.NO_ROOM; // size 0 frees
        if (r == Bridge.FAILED) { // NULL, and the block as it was
            return (long) libc.invokeExact(function, state, 0L, 1L, ENOMEM_SIZE);
        }
        if (r != Bridge.NO_ROOM) {
            return r;
        }
        long to = (long) libc.invokeExact(function, state, 0L, count, size);
        return to == 0 ? 0 : Bridge.movedToDram(p, bytes, to);
    }

    /**
     * Whether the pool takes a realloc of {@code p} through a handle to {@code function} ({@code expected} the function
     * it must be; both 0 for a handle bound to it): a pool block, or NULL at a routed {@code site}.
     */
    public static boolean reallocTakes(long expected, int site, long function, long p) {
        return function == expected && (p == 0 ? site != 0 : Bridge.h.owns(p));
    }

    /** Frees {@code p} in its pool if it is a pool block freed through {@code function} (as {@link #reallocTakes}). */
    public static boolean freedInPool(long expected, long function, long p) {
        return function == expected && p != 0 && Bridge.h.free(p);
    }

    /**
     * For malloc_usable_size(3) through a handle to {@code function} ({@code expected} the function it must be; both 0
     * for a handle bound to it): whether {@code p} is in a pool (then {@link #poolUsableSize} answers, not libc).
     */
    public static boolean ownedByPool(long expected, long function, long p) {
        return function == expected && p != 0 && Bridge.h.owns(p);
    }

    /** malloc_usable_size(3) of pool block {@code p}: the bytes usable from {@code p} on. */
    public static long poolUsableSize(long p) {
        return Bridge.h.usableSize(p);
    }

    /**
     * A segment argument's address if the JDK's downcall would pass it as a native address (native, alive, accessible
     * from this thread), else an address no pool holds and that is not NULL, so that such a call runs the program's own
     * handle and the JDK does with the segment what it does (refuses it, or passes a heap array to a critical function).
     */
    public static long candidate(MemorySegment s) {
        return s.isNative() && s.scope().isAlive() && s.isAccessibleBy(Thread.currentThread()) ? s.address() : REFUSED;
    }

    /**
     * A returned address as the program's handle gives it: a segment of the return layout's target size, refused as
     * the JDK refuses an address not aligned to the target layout.
     */
    public static MemorySegment segment(long targetSize, long targetAlignment, long address) {
        if ((address & (targetAlignment - 1)) != 0) {
            throw new IllegalArgumentException("Invalid alignment constraint for address: 0x" + Long.toHexString(address));
        }
        MemorySegment s = MemorySegment.ofAddress(address);
        return targetSize > 0 ? s.reinterpret(targetSize) : s;
    }
}
