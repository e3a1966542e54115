package sample.cli;

import io.jvmem.allocator.CtoPool;
import io.jvmem.allocator.MemoryPool;
import io.jvmem.allocator.VolatilePool;
import java.nio.file.Path;

/**
 * Holds a pool open until killed: {@code cto FILE LAYOUT} opens an existing pool file, allocates and writes into it;
 * {@code volatile NAME} makes a volatile pool. Prints {@code ready} once the pool is in use.
 */
public final class HoldPool {
    public static void main(String[] args) throws Exception {
        MemoryPool pool = args[0].equals("cto") ? CtoPool.open(Path.of(args[1]), args[2])
                : VolatilePool.create(args[1], Path.of("/dev/shm"), 16L << 20);
        for (int i = 0; i < 100; i++) {
            pool.segment(pool.malloc(1000)).fill((byte) i);
        }
        System.out.println("ready");
        System.out.flush();
        Thread.sleep(120_000);
    }
}
