package io.jvmem.allocator;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.LongSupplier;

/**
 * The rest of FreeBSD malloc(9) and libpmemcto on top of a pool's allocator: mallocarray, zfree, reallocf, the flags
 * (M_ZERO, M_WAITOK/M_NOWAIT, M_NODUMP) and pmemcto_wcsdup. Stateless; the pool holds the {@link Waiters}.
 */
final class Malloc9 {
    private static final MemorySegment ALL = Allocator.all();

    private Malloc9() {
    }

    static long mallocArray(PoolBase pool, long n, long size, int tag, MallocFlags flags) {
        if (n < 0 || size < 0) {
            return Allocator.fail(PoolErrorReason.NEGATIVE_SIZE, "mallocArray: negative count or size (" + n + ", " + size + ")");
        }
        long total;
        try {
            total = Math.multiplyExact(n, size);
        } catch (ArithmeticException e) {
            return Allocator.fail(PoolErrorReason.OVERFLOW, "mallocArray: " + n + " × " + size + " overflows");
        }
        return malloc(pool, total, tag, flags);
    }

    static long malloc(PoolBase pool, long size, int tag, MallocFlags flags) {
        Allocator heap = pool.heap;
        if (flags.noDump() && !heap.options.noDump()) {
            return Allocator.fail(PoolErrorReason.BAD_ARGUMENT,
                    "M_NODUMP asked of pool " + heap.name + ", which was not created with noDump");
        }
        if (flags.waitTimeout().isEmpty()) {
            return flags.zero() ? heap.calloc(1, size, tag) : heap.malloc(size, tag);
        }
        return waiting(pool, flags, () -> {
            long a = flags.zero() ? heap.calloc(1, size, tag) : heap.malloc(size, tag);
            if (a == 0 && retryable(Errors.lastReason())) {
                a = mallocFromAnyArena(heap, size, tag); // sets no error: the one above stays the thread's last
                if (a != 0 && flags.zero()) {
                    Zeroing.zero(a, size);
                }
            }
            return a;
        });
    }

    static long realloc(PoolBase pool, long address, long size, int tag, MallocFlags flags) {
        Allocator heap = pool.heap;
        if (flags.noDump() && !heap.options.noDump()) {
            return Allocator.fail(PoolErrorReason.BAD_ARGUMENT,
                    "M_NODUMP asked of pool " + heap.name + ", which was not created with noDump");
        }
        long old = address == 0 ? 0 : heap.usableSize(address); // also refuses a block that is not live, at once
        long r = waiting(pool, flags, () -> heap.realloc(address, size, tag));
        if (r != 0 && flags.zero() && size > old) {
            Zeroing.zero(r + old, size - old); // jemalloc MALLOCX_ZERO: the old size is the boundary
        }
        freed(pool);
        return r;
    }

    static long reallocf(PoolBase pool, long address, long size, int tag) {
        long r = pool.heap.realloc(address, size, tag);
        if (r == 0 && address != 0 && size != 0) {
            // the realloc failed and left the block: reallocf frees it (the failure's reason stays the thread's last)
            pool.heap.free(address);
        }
        freed(pool);
        return r;
    }

    static void zfree(PoolBase pool, long address) {
        if (address == 0) {
            return;
        }
        Allocator heap = pool.heap;
        long usable = heap.usableSize(address); // throws InvalidFreeException before anything is written
        Zeroing.zero(address, usable);
        pool.free(address);
    }

    /** strdup: a NUL-terminated copy of {@code utf8} in the pool, or 0. */
    static long strdup(Allocator heap, byte[] utf8) {
        long a = heap.malloc(utf8.length + 1, 0); // gated by malloc; the copy below writes only the caller's new block
        if (a != 0) {
            MemorySegment.copy(MemorySegment.ofArray(utf8), 0, ALL, a, utf8.length);
            ALL.set(ValueLayout.JAVA_BYTE, a + utf8.length, (byte) 0);
        }
        return a;
    }

    /** pmemcto_wcsdup: UTF-32 (Linux's 4-byte wchar_t, native byte order), NUL-terminated. */
    static long wcsdup(PoolBase pool, int[] codePoints) {
        long a = pool.heap.malloc(4L * (codePoints.length + 1), 0);
        if (a != 0) {
            MemorySegment.copy(codePoints, 0, ALL, ValueLayout.JAVA_INT_UNALIGNED, a, codePoints.length);
            ALL.set(ValueLayout.JAVA_INT_UNALIGNED, a + 4L * codePoints.length, 0);
        }
        return a;
    }

    /** The code points of the NUL-terminated wchar_t string at {@code address} (at most {@code max} of them). */
    static int[] readWide(long address, long max) {
        int n = 0;
        while (n < max && ALL.get(ValueLayout.JAVA_INT_UNALIGNED, address + 4L * n) != 0) {
            n++;
        }
        int[] cps = new int[n];
        MemorySegment.copy(ALL, ValueLayout.JAVA_INT_UNALIGNED, address, cps, 0, n);
        return cps;
    }

    /**
     * After a free: if threads wait for memory (M_WAITOK), this thread's cached blocks are made available to them and
     * they wake; else nothing (one volatile read, so that every free can call it).
     */
    static void freed(PoolBase pool) {
        if (pool.waiters.waiting()) {
            released(pool);
        }
    }

    private static void released(PoolBase pool) {
        try {
            pool.heap.caches.flushCurrentThread();
        } finally {
            pool.waiters.released();
        }
    }

    /** Level 3: one line per call of these additions (the arguments and the result); returns {@code result}. */
    static long traced(PoolBase pool, String call, long a, long b, long result) {
        if (PoolLog.enabled(3)) {
            PoolLog.verbose(() -> "pool " + pool.name() + ": " + call + "(" + a + ", " + b + ") = 0x"
                    + Long.toHexString(result));
        }
        return result;
    }

    /** The pool was closed or deleted (level 2 trace); waiters wake, and their next attempt throws. */
    static void closed(PoolBase pool) {
        PoolLog.trace(() -> "pool " + pool.name() + " closed");
        pool.waiters.released();
    }

    /**
     * M_WAITOK's retry for a small class: a free region from any arena, since a block another thread freed goes back
     * to that thread's arena. 0, changing nothing, when none has one or the debugging aids are on (their blocks go
     * through {@link Allocator#allocate}).
     */
    static long mallocFromAnyArena(Allocator heap, long size, int tag) {
        int cls = size < 0 || heap.debug ? -1 : SizeClasses.index(size);
        if (cls < 0 || !SizeClasses.isSmall(cls)) {
            return 0;
        }
        ThreadCache tc = heap.caches.enter();
        try {
            long[] one = new long[1];
            for (HeapArena a : heap.arenas) {
                if (a.fill(cls, one, 1) == 1) {
                    heap.onAlloc(tc, one[0], cls, tag, false);
                    return heap.heapAddr + one[0];
                }
            }
            return 0;
        } finally {
            heap.caches.exit(tc);
        }
    }

    private static boolean retryable(PoolErrorReason r) {
        return r == PoolErrorReason.OUT_OF_MEMORY || r == PoolErrorReason.NO_SPACE || r == PoolErrorReason.MAX_SIZE; // a growable pool at its limit waits like a full one
    }

    /** One attempt for M_NOWAIT; for M_WAITOK, attempts until one succeeds, fails for good, or the timeout passes. */
    private static long waiting(PoolBase pool, MallocFlags flags, LongSupplier attempt) {
        if (flags.waitTimeout().isEmpty()) {
            return attempt.getAsLong();
        }
        long timeout = Waiters.toNanos(flags.waitTimeout().get());
        long start = System.nanoTime();
        Waiters w = pool.waiters;
        w.enter();
        try {
            while (true) {
                long seen = w.generation();
                long a = attempt.getAsLong();
                if (a != 0 || !retryable(Errors.lastReason())) {
                    return a;
                }
                long left = timeout - (System.nanoTime() - start);
                if (left <= 0) {
                    return Allocator.fail(Errors.lastReason(), Errors.last() + " (M_WAITOK: waited "
                            + (System.nanoTime() - start) / 1_000_000 + " ms)");
                }
                PoolLog.verbose(() -> "pool " + pool.name() + ": waiting up to " + left / 1_000_000 + " ms for memory");
                if (!w.awaitRelease(seen, left)) {
                    return Allocator.fail(Errors.lastReason(), Errors.last() + " (M_WAITOK: interrupted while waiting)");
                }
            }
        } finally {
            w.leave();
        }
    }
}
