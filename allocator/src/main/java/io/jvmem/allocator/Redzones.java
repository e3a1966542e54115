package io.jvmem.allocator;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Guard bytes around blocks and junk fill (jemalloc's opt.redzone and opt.junk), the debugging aids of
 * {@link PoolOptions#redzones()} and {@link PoolOptions#junkFill()}. A redzoned block is laid out as
 * <pre>
 *  block                                  user address
 *  | junk (lead - 16) | lead u32 | magic u32 | size u64 | user's bytes | junk to the block's end |
 * </pre>
 * where lead ≥ 16 is a multiple of the quantum (and of the requested alignment). The magic becomes
 * {@link #FREED} when the block goes into a thread cache, so a second free is caught before the free key is read.
 */
final class Redzones {
    /** Bytes of guard on each side, at least; also the header's size. */
    static final int RZ = 16;
    static final byte JUNK_ALLOC = (byte) 0xa5;
    static final byte JUNK_FREE = (byte) 0x5a;
    private static final int MAGIC = 0xa5a5a5a5;
    private static final int FREED = 0x5a5a5a5a;
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private Redzones() {
    }

    /**
     * Writes the guards of a block of {@code usable} bytes at {@code block} holding {@code size} user bytes after
     * {@code lead} bytes; returns the user address.
     */
    static long wrap(long block, long lead, long size, long usable) {
        long user = block + lead;
        if (lead > RZ) {
            ALL.asSlice(block, lead - RZ).fill(JUNK_ALLOC);
        }
        ALL.set(ValueLayout.JAVA_INT_UNALIGNED, user - 16, (int) lead);
        ALL.set(ValueLayout.JAVA_INT_UNALIGNED, user - 12, MAGIC);
        ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, user - 8, size);
        ALL.asSlice(user + size, usable - lead - size).fill(JUNK_ALLOC);
        return user;
    }

    /** The size the user asked for, from the header before {@code user}. */
    static long requested(long user) {
        return ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, user - 8);
    }

    /** Marks a block that goes into a thread cache. */
    static void markFreed(long user) {
        ALL.set(ValueLayout.JAVA_INT_UNALIGNED, user - 12, FREED);
    }

    /** Block address behind a redzoned user address, read from the 16-byte header before it. */
    static long block(Allocator h, long address, String op) {
        h.blockOffset(address - RZ, op); // within the heap in use: the header below is mapped
        int lead = ALL.get(ValueLayout.JAVA_INT_UNALIGNED, address - 16);
        int magic = ALL.get(ValueLayout.JAVA_INT_UNALIGNED, address - 12);
        if (magic == FREED) {
            throw h.invalid(address, op, "double free (the block is already free in a thread cache)");
        }
        if (lead < RZ || (lead & (SizeClasses.QUANTUM - 1)) != 0 || address - lead < h.heapAddr || magic != MAGIC) {
            if (!h.isLiveBlock(address)) {
                throw h.invalid(address, op, "no live block starts at this address (or its leading redzone was overwritten)");
            }
            throw new HeapCorruptionException("leading redzone of the block at 0x" + Long.toHexString(address) + " overwritten");
        }
        return address - lead;
    }

    /** Null if both guards of the block are intact, else what was overwritten. */
    static String check(long block, long user, long requested, long usable) {
        for (long a = block; a < user - 16; a++) {
            if (ALL.get(ValueLayout.JAVA_BYTE, a) != JUNK_ALLOC) {
                return "leading redzone of the block at 0x" + Long.toHexString(user) + " overwritten";
            }
        }
        for (long a = user + requested; a < block + usable; a++) {
            if (ALL.get(ValueLayout.JAVA_BYTE, a) != JUNK_ALLOC) {
                return "trailing redzone of the block at 0x" + Long.toHexString(user) + " overwritten at +" + (a - user);
            }
        }
        return null;
    }
}
