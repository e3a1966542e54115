package io.jvmem.allocator;

import java.nio.file.Files;
import java.nio.file.Path;

/** Shared helpers: pools on tmpfs when the machine has it. */
final class TestPools {
    static final Path SHM = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));

    private TestPools() {
    }

    static VolatilePool create(long size) {
        return VolatilePool.create("test", SHM, size);
    }

    static VolatilePool create(long size, PoolOptions options) {
        return VolatilePool.create("test", SHM, size, options);
    }

    static final java.lang.foreign.MemorySegment ALL = Allocator.all();

    static void fill(long addr, long len, byte b) {
        ALL.asSlice(addr, len).fill(b);
    }

    static boolean all(long addr, long len, byte b) {
        for (long i = 0; i < len; i++) {
            if (ALL.get(java.lang.foreign.ValueLayout.JAVA_BYTE, addr + i) != b) {
                return false;
            }
        }
        return true;
    }
}
