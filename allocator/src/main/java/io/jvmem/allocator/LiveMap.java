package io.jvmem.allocator;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * One bit per 16-byte granule of the heap, set exactly at the first granule of every block that its slab or the page
 * allocator has handed out (to a user, or to a thread cache). It is the persistent record of which blocks exist:
 * a reopened pool rebuilds its slabs from it, and free rejects any address whose bit is clear (never allocated, a
 * pointer into a block, or a block already back in its slab). Blocks resting in thread caches keep their bit and
 * carry a free key instead (see {@link Allocator}).
 *
 * <p>Bits are written with plain read-modify-writes: a 64-bit word covers 1 KiB of heap, runs are whole 4 KiB pages,
 * so a word never spans two runs, and each run's bits are written only under its arena's lock (slabs) or by the
 * thread that owns the run (page runs). 1 GiB of heap needs 8 MiB of bits (0.78%).
 */
final class LiveMap {
    private static final VarHandle WORD = ValueLayout.JAVA_LONG.varHandle();

    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    private final MemorySegment bits;
    /** Absolute address of word 0; the hot read goes through the static all-memory segment. */
    private final long base;

    LiveMap(MemorySegment pool, PoolLayout layout) {
        this.bits = pool.asSlice(layout.liveMapOffset, SizeClasses.pageCeil(layout.maxHeapPages * SizeClasses.PAGE / 128));
        this.base = bits.address();
    }

    /** Marks the block at heap offset {@code off} handed out; false if it already was (allocator bug or corruption). */
    boolean set(long off) {
        long g = off >>> SizeClasses.LG_QUANTUM;
        long mask = 1L << g;
        long at = (g >>> 6) << 3;
        long old = (long) WORD.get(bits, at);
        WORD.set(bits, at, old | mask);
        return (old & mask) == 0;
    }

    /** Marks the block at heap offset {@code off} returned; false if it was not handed out. */
    boolean clear(long off) {
        long g = off >>> SizeClasses.LG_QUANTUM;
        long mask = 1L << g;
        long at = (g >>> 6) << 3;
        long old = (long) WORD.get(bits, at);
        WORD.set(bits, at, old & ~mask);
        return (old & mask) != 0;
    }

    /** Whether the block at heap offset {@code off} (which callers keep inside the heap) is handed out. */
    boolean isSet(long off) {
        long g = off >>> SizeClasses.LG_QUANTUM;
        return (ALL.get(ValueLayout.JAVA_LONG, base + ((g >>> 6) << 3)) & (1L << g)) != 0;
    }

    /** The 64-bit word holding granules [64 * i, 64 * i + 63]; for the consistency check. */
    long word(long i) {
        return (long) WORD.getVolatile(bits, i << 3);
    }

    void clearAll() {
        bits.fill((byte) 0);
    }
}
