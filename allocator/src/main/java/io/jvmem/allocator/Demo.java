package io.jvmem.allocator;

import java.nio.file.Files;
import java.nio.file.Path;

/** The allocator demo: a pool in /dev/shm (or the temp dir), a few typed allocations, statistics. */
public final class Demo {
    private Demo() {
    }

    public static void main(String[] args) {
        Path dir = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
        AllocationTag strings = AllocationTag.define("demo.strings");
        AllocationTag buffers = AllocationTag.define("demo.buffers");
        try (VolatilePool pool = VolatilePool.create("demo", dir, 64L << 20)) {
            long hello = pool.strdup("hello from a jvmem pool");
            long[] blocks = new long[1000];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = pool.malloc(16L << (i % 12), i % 2 == 0 ? buffers : strings);
            }
            long big = pool.calloc(1, 8L << 20);
            for (int i = 0; i < blocks.length; i += 2) {
                pool.free(blocks[i]);
            }
            System.out.println(pool.segment(hello).getString(0));
            System.out.println("pool " + pool.name() + " in " + pool.path() + ": " + pool.size() + " bytes mapped, check: "
                    + pool.check().status());
            System.out.print(pool.statsPrint(args.length > 0 ? args[0] : "a"));
            pool.free(big);
        }
    }
}
