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
}
