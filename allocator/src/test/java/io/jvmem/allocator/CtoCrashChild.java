package io.jvmem.allocator;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.CRC32C;

/**
 * The program the crash test kills: opens (or creates) a pool, replaces the previous generation of data with a new
 * one reachable from the root, churns, and closes, announcing each phase on stdout.
 *
 * <p>Root table: {@code [generation, count, (offset, size) × count, crc]}, offsets from the pool base.
 */
public final class CtoCrashChild {
    static final String LAYOUT = "crash-test";
    static final int BLOCKS = 200;

    private CtoCrashChild() {
    }

    public static void main(String[] args) {
        Path path = Path.of(args[0]);
        long generation = Long.parseLong(args[1]);
        CtoPool pool = CtoPool.openOrCreate(path, LAYOUT, 64L << 20, false, PoolOptions.DEFAULT);
        say("OPENED");
        long old = pool.root();
        if (old != 0 && verify(pool) < 0) {
            say("CORRUPT");
            System.exit(3);
        }
        if (old != 0) {
            MemorySegment t = pool.segment(old);
            long n = t.get(ValueLayout.JAVA_LONG, 8);
            for (int i = 0; i < n; i++) {
                pool.free(pool.allocator().base + t.get(ValueLayout.JAVA_LONG, 16 + 16L * i));
            }
            pool.setRoot(0);
            pool.free(old);
        }
        Random r = new Random(generation);
        long table = pool.malloc(16 + 16L * BLOCKS + 8);
        MemorySegment t = pool.segment(table);
        t.set(ValueLayout.JAVA_LONG, 0, generation);
        t.set(ValueLayout.JAVA_LONG, 8, BLOCKS);
        CRC32C crc = new CRC32C();
        for (int i = 0; i < BLOCKS; i++) {
            int size = 1 + r.nextInt(64 * 1024);
            long a = pool.malloc(size);
            MemorySegment b = pool.segment(a).asSlice(0, size);
            byte[] bytes = new byte[size];
            r.nextBytes(bytes);
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, b, 0, size);
            crc.update(bytes);
            t.set(ValueLayout.JAVA_LONG, 16 + 16L * i, a - pool.allocator().base);
            t.set(ValueLayout.JAVA_LONG, 24 + 16L * i, size);
        }
        t.set(ValueLayout.JAVA_LONG, 16 + 16L * BLOCKS, crc.getValue() ^ generation);
        pool.setRoot(table);
        say("WRITTEN " + generation);
        for (int i = 0; i < 2000; i++) { // unreferenced churn, some of it large and dirty
            long a = pool.malloc(1 + r.nextInt(i % 50 == 0 ? 4 << 20 : 8192));
            if (a != 0) {
                pool.segment(a).fill((byte) i);
                pool.free(a);
            }
        }
        say("CLOSING");
        pool.close();
        say("CLOSED");
    }

    /** Returns the generation found through the root after checking every byte, -1 if damaged, 0 if no root. */
    static long verify(CtoPool pool) {
        long table = pool.root();
        if (table == 0) {
            return 0;
        }
        MemorySegment t = pool.segment(table);
        long generation = t.get(ValueLayout.JAVA_LONG, 0);
        long n = t.get(ValueLayout.JAVA_LONG, 8);
        if (n != BLOCKS) {
            return -1;
        }
        CRC32C crc = new CRC32C();
        for (int i = 0; i < n; i++) {
            long a = pool.allocator().base + t.get(ValueLayout.JAVA_LONG, 16 + 16L * i);
            long size = t.get(ValueLayout.JAVA_LONG, 24 + 16L * i);
            if (pool.usableSize(a) < size) {
                return -1;
            }
            crc.update(pool.segment(a).asSlice(0, size).asByteBuffer());
        }
        return (crc.getValue() ^ generation) == t.get(ValueLayout.JAVA_LONG, 16 + 16L * n) ? generation : -1;
    }

    private static void say(String s) {
        System.out.println(s);
        System.out.flush();
    }
}
