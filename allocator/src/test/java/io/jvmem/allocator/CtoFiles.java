package io.jvmem.allocator;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Test helpers that edit pool files behind the library's back. */
final class CtoFiles {
    private CtoFiles() {
    }

    /** Marks a closed pool as left open by a crash (state open, header checksum recomputed). */
    static void markDirty(Path pool) throws IOException {
        try (FileChannel fc = FileChannel.open(pool, StandardOpenOption.READ, StandardOpenOption.WRITE);
             Arena arena = Arena.ofConfined()) {
            MemorySegment header = fc.map(FileChannel.MapMode.READ_WRITE, 0, PoolLayout.HEADER_BYTES, arena);
            PoolLayout.setState(header, PoolLayout.STATE_OPEN);
        }
    }

    static long readLong(Path pool, long offset) throws IOException {
        try (FileChannel fc = FileChannel.open(pool, StandardOpenOption.READ)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            fc.read(b, offset);
            return b.getLong(0);
        }
    }

    static byte read(Path pool, long offset) throws IOException {
        try (FileChannel fc = FileChannel.open(pool, StandardOpenOption.READ)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
            fc.read(b, offset);
            return b.get(0);
        }
    }

    static void write(Path pool, long offset, byte value) throws IOException {
        try (FileChannel fc = FileChannel.open(pool, StandardOpenOption.WRITE)) {
            fc.write(java.nio.ByteBuffer.wrap(new byte[] {value}), offset);
        }
    }

    static void writeLong(Path pool, long offset, long value) throws IOException {
        try (FileChannel fc = FileChannel.open(pool, StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.putLong(0, value);
            fc.write(b, offset);
        }
    }

    static void writeInt(Path pool, long offset, int value) throws IOException {
        try (FileChannel fc = FileChannel.open(pool, StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.putInt(0, value);
            fc.write(b, offset);
        }
    }

    /**
     * Recomputes the metadata and header checksums of a pool edited behind the library's back (as a clean close
     * writes them, state left as it is), so that only a cross-check of the structures can notice the edit.
     */
    static void recomputeChecksums(Path pool) throws IOException {
        try (FileChannel fc = FileChannel.open(pool, StandardOpenOption.READ, StandardOpenOption.WRITE);
             Arena arena = Arena.ofConfined()) {
            MemorySegment seg = fc.map(FileChannel.MapMode.READ_WRITE, 0, fc.size(), arena);
            PoolLayout layout = PoolLayout.compute(fc.size());
            java.util.zip.CRC32C meta = new java.util.zip.CRC32C();
            meta.update(seg.asSlice(layout.pageMapOffset, layout.heapOffset - layout.pageMapOffset).asByteBuffer());
            seg.set(LE_LONG, PoolLayout.OFF_META_CRC, meta.getValue());
            java.util.zip.CRC32C header = new java.util.zip.CRC32C();
            header.update(seg.asSlice(0, PoolLayout.OFF_CHECKSUM).asByteBuffer());
            seg.set(LE_LONG, PoolLayout.OFF_CHECKSUM, header.getValue());
        }
    }

    /** Clears the live bit of the block at heap offset {@code heapOffset} (checksums not recomputed). */
    static void clearLiveBit(Path pool, long heapOffset) throws IOException {
        editLiveBit(pool, heapOffset, false);
    }

    /** Sets the live bit of heap offset {@code heapOffset} (checksums not recomputed). */
    static void setLiveBit(Path pool, long heapOffset) throws IOException {
        editLiveBit(pool, heapOffset, true);
    }

    private static void editLiveBit(Path pool, long heapOffset, boolean set) throws IOException {
        PoolLayout layout = PoolLayout.compute(java.nio.file.Files.size(pool));
        long granule = heapOffset >>> SizeClasses.LG_QUANTUM;
        long at = layout.liveMapOffset + (granule >>> 6) * 8;
        long word = readLong(pool, at);
        long mask = 1L << (granule & 63);
        writeLong(pool, at, set ? word | mask : word & ~mask);
    }

    private static final java.lang.foreign.ValueLayout.OfLong LE_LONG =
            java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
}
