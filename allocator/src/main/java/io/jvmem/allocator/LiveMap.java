package io.jvmem.allocator;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * One bit per 16-byte granule of the heap, set exactly at the first granule of every block that is currently in the
 * user's hands. It is the allocator's single source of truth for "is this a live block": free clears the bit
 * atomically and a free that finds it already clear is a double free, a free of something never allocated, or a
 * pointer into the middle of a block. Blocks resting in thread caches or slabs have the bit clear.
 *
 * <p>Bits are flipped with atomic read-modify-write because neighbouring blocks owned by different threads share
 * words. 1 GiB of heap needs 8 MiB of bits (0.78%).
 */
final class LiveMap {
    private static final VarHandle WORD = ValueLayout.JAVA_LONG.varHandle();

    private final MemorySegment bits;

    LiveMap(MemorySegment pool, PoolLayout layout) {
        this.bits = pool.asSlice(layout.liveMapOffset, SizeClasses.pageCeil(layout.heapPages * SizeClasses.PAGE / 128));
    }

    /** Marks the block at heap offset {@code off} live; false if it already was (allocator bug or corruption). */
    boolean set(long off) {
        long g = off >>> SizeClasses.LG_QUANTUM;
        long mask = 1L << g;
        long old = (long) WORD.getAndBitwiseOr(bits, (g >>> 6) << 3, mask);
        return (old & mask) == 0;
    }

    /** Clears the live bit of the block at heap offset {@code off}; false if it was not live. */
    boolean clear(long off) {
        long g = off >>> SizeClasses.LG_QUANTUM;
        long mask = 1L << g;
        long old = (long) WORD.getAndBitwiseAnd(bits, (g >>> 6) << 3, ~mask);
        return (old & mask) != 0;
    }

    boolean isLive(long off) {
        long g = off >>> SizeClasses.LG_QUANTUM;
        return ((long) WORD.getVolatile(bits, (g >>> 6) << 3) & (1L << g)) != 0;
    }

    /** The 64-bit word holding granules [64 * i, 64 * i + 63]; for the consistency check. */
    long word(long i) {
        return (long) WORD.getVolatile(bits, i << 3);
    }

    long words() {
        return bits.byteSize() >>> 3;
    }

    void clearAll() {
        bits.fill((byte) 0);
    }
}
