package io.jvmem.allocator;

/**
 * PoolOptions.noDump, the pool-wide M_NODUMP of malloc(9): madvise(MADV_DONTDUMP) on the pool's whole mapping, so a
 * core dump of the JVM leaves the pool out (the mapping's VmFlags in /proc/self/smaps show {@code dd}).
 */
final class NoDump {
    static final int MADV_DONTDUMP = 16;

    private NoDump() {
    }

    static void apply(Allocator heap) {
        if (!heap.options.noDump()) {
            return;
        }
        if (Native.madvise(heap.base, heap.poolSize, MADV_DONTDUMP) != 0) {
            throw new PoolException(PoolErrorReason.IO, "pool " + heap.name
                    + ": madvise(MADV_DONTDUMP) failed for noDump");
        }
    }
}
