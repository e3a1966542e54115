package io.jvmem.it;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.memory.unsafe.UnsafeAllocationManager;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Ordinary Apache Arrow (Java) use with the Unsafe allocation manager, whose buffers come from
 * {@code sun.misc.Unsafe.allocateMemory} in {@code org.apache.arrow.memory.util.MemoryUtil} (called by
 * {@code org.apache.arrow.memory.unsafe.UnsafeAllocationManager}) and go back through {@code Unsafe.freeMemory}:
 *
 * <ul>
 *   <li>a {@link RootAllocator} configured with {@link UnsafeAllocationManager#FACTORY} and a child allocator;</li>
 *   <li>an {@link IntVector} and a {@link VarCharVector} filled with {@code setSafe} from a small initial
 *       allocation (so Arrow reallocates them several times: allocate, copy, free), with nulls, then every value
 *       and null bit read back and checked;</li>
 *   <li>raw {@link ArrowBuf}s of several sizes written with longs and read back, also through their
 *       {@code nioBuffer()} views (direct ByteBuffers Arrow builds over its own memory);</li>
 *   <li>everything closed: the allocators must account for zero bytes and close without reporting a leak.</li>
 * </ul>
 *
 * <p>Arguments (optional): {@code rows} (default 300000), {@code seed} (default 5). Prints {@code ARROW OK ...}
 * and exits 0, or prints {@code ARROW FAIL ...} and exits 1.
 */
public final class ArrowVectors {

    public static void main(String[] args) {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 300_000;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 5L;
        ProgramExit.withFailure("ARROW", () -> run(rows, seed));
    }

    static boolean isNullRow(long seed, int i) {
        return Long.remainderUnsigned(mix(seed, i), 13) == 0;
    }

    static int intValue(long seed, int i) {
        return (int) (mix(seed + 1, i) >>> 16);
    }

    /** Row i's string: 0..96 bytes of UTF-8 (ASCII and two-byte characters), depending only on seed and i. */
    static byte[] text(long seed, int i) {
        long h = mix(seed + 2, i);
        int len = (int) Long.remainderUnsigned(h, 97);
        byte[] b = new byte[len];
        for (int k = 0; k < len; k++) {
            long x = mix(h, k);
            b[k] = (byte) ('!' + Long.remainderUnsigned(x, 90));
        }
        if (len >= 2 && (h & 1) == 0) {      // a two-byte UTF-8 character at the end
            b[len - 2] = (byte) 0xC3;
            b[len - 1] = (byte) 0xA9;
        }
        return b;
    }

    static long mix(long seed, long i) {
        long x = seed * 0x9E3779B97F4A7C15L + i * 0xD1B54A32D192ED03L;
        x = (x ^ (x >>> 30)) * 0xBF58476D1CE4E5B9L;
        x = (x ^ (x >>> 27)) * 0x94D049BB133111EBL;
        return x ^ (x >>> 31);
    }

    static String run(int rows, long seed) {
        StringBuilder ok = new StringBuilder("ARROW OK rows=" + rows);
        // Arrow's documented way to pick the allocation manager (its config types are not public).
        RootAllocator root = new RootAllocator(RootAllocator.configBuilder()
                .allocationManagerFactory(UnsafeAllocationManager.FACTORY)
                .maxAllocation(1L << 30)
                .build());
        BufferAllocator child = root.newChildAllocator("vectors", 0, 1L << 30);

        // 1. Vectors grown with setSafe from a tiny allocation.
        IntVector ints = new IntVector("ints", child);
        VarCharVector strings = new VarCharVector("strings", child);
        ints.allocateNew(16);
        strings.allocateNew(64, 16);
        int nulls = 0;
        long textBytes = 0;
        for (int i = 0; i < rows; i++) {
            if (isNullRow(seed, i)) {
                ints.setNull(i);
                strings.setNull(i);
                nulls++;
            } else {
                ints.setSafe(i, intValue(seed, i));
                byte[] t = text(seed, i);
                strings.setSafe(i, t);
                textBytes += t.length;
            }
        }
        ints.setValueCount(rows);
        strings.setValueCount(rows);
        if (ints.getNullCount() != nulls || strings.getNullCount() != nulls) {
            return "null counts " + ints.getNullCount() + " / " + strings.getNullCount() + ", expected " + nulls;
        }
        for (int i = 0; i < rows; i++) {
            boolean wantNull = isNullRow(seed, i);
            if (ints.isNull(i) != wantNull || strings.isNull(i) != wantNull) {
                return "row " + i + ": null bits " + ints.isNull(i) + " / " + strings.isNull(i) + ", expected " + wantNull;
            }
            if (wantNull) {
                if (strings.get(i) != null) {
                    return "row " + i + ": null string read as a value";
                }
                continue;
            }
            if (ints.get(i) != intValue(seed, i)) {
                return "row " + i + ": int " + ints.get(i) + " expected " + intValue(seed, i);
            }
            byte[] got = strings.get(i);
            byte[] want = text(seed, i);
            if (!Arrays.equals(got, want)) {
                return "row " + i + ": string " + Arrays.toString(got) + " expected " + Arrays.toString(want);
            }
        }
        long vectorBytes = child.getAllocatedMemory();
        ok.append(" nulls=").append(nulls).append(" textBytes=").append(textBytes)
                .append(" vectorBytes=").append(vectorBytes);

        // 2. Raw ArrowBufs and their nioBuffer views.
        long rawBytes = 0;
        for (long size = 8; size <= (8 << 20); size *= 8) {
            try (ArrowBuf buf = child.buffer(size)) {
                if (buf.capacity() < size) {
                    return "buffer(" + size + ") has capacity " + buf.capacity();
                }
                for (long off = 0; off + 8 <= size; off += 8) {
                    buf.setLong(off, mix(seed + size, off));
                }
                for (long off = 0; off + 8 <= size; off += 8) {
                    if (buf.getLong(off) != mix(seed + size, off)) {
                        return "buffer(" + size + "): long at " + off + " differs";
                    }
                }
                ByteBuffer nio = buf.nioBuffer(0, (int) size).order(ByteOrder.LITTLE_ENDIAN);
                if (!nio.isDirect() || nio.capacity() != size) {
                    return "buffer(" + size + ").nioBuffer() is " + nio;
                }
                for (int off = 0; off + 8 <= size; off += 8) {
                    if (nio.getLong(off) != mix(seed + size, off)) {
                        return "buffer(" + size + ").nioBuffer(): long at " + off + " differs";
                    }
                }
                rawBytes += size;
            }
        }
        ok.append(" rawBytes=").append(rawBytes);

        // 3. Close everything: no leak.
        ints.close();
        strings.close();
        if (child.getAllocatedMemory() != 0) {
            return "child allocator still holds " + child.getAllocatedMemory() + " bytes after closing the vectors";
        }
        long peak = root.getPeakMemoryAllocation();
        child.close();
        if (root.getAllocatedMemory() != 0) {
            return "root allocator still holds " + root.getAllocatedMemory() + " bytes";
        }
        root.close();                    // throws IllegalStateException("Memory was leaked ...") on a leak
        ok.append(" peakAllocated=").append(peak).append(" leaked=0");
        System.out.println(ok);
        return null;
    }
}
