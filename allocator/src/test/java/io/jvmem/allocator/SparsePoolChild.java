package io.jvmem.allocator;

import java.nio.file.Path;

/**
 * Run in a forked JVM by {@link SparsePoolTest}: opens and checks a pool file and prints what happened, so that a
 * SIGBUS would kill only this JVM and show as its exit code. Prints "OPEN OK" or "OPEN reason", then
 * "CHECK status reason".
 */
final class SparsePoolChild {
    private SparsePoolChild() {
    }

    public static void main(String[] args) {
        Path pool = Path.of(args[0]);
        String layout = args[1];
        try (CtoPool p = CtoPool.open(pool, layout)) {
            System.out.println("OPEN OK " + p.size());
        } catch (PoolException e) {
            System.out.println("OPEN " + e.reason());
            System.out.println("MESSAGE " + e.getMessage());
        }
        PoolCheck c = CtoPool.check(pool, layout);
        System.out.println("CHECK " + c.status() + " " + c.reason());
    }
}
