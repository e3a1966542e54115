package io.jvmem.allocator;

/**
 * PoolOptions.noDump, the pool-wide M_NODUMP of malloc(9): madvise(MADV_DONTDUMP) on the pool's mapping, so a core
 * dump of the JVM leaves the pool out (the mapping's VmFlags in /proc/self/smaps show {@code dd}). A stretch mapped
 * later (a growable pool's new chunk, mapped over its reservation) is a new mapping and needs {@link #apply(Allocator,
 * long, long)} itself.
 */
final class NoDump {
    static final int MADV_DONTDUMP = 16;

    private NoDump() {
    }

    /** The whole pool as mapped at creation. */
    static void apply(Allocator heap) {
        apply(heap, 0, heap.poolSize);
    }

    /** {@code length} bytes from {@code offset} (from the pool's base), when the pool is noDump. */
    static void apply(Allocator heap, long offset, long length) {
        if (!heap.options.noDump()) {
            return;
        }
        if (Native.madvise(heap.base + offset, length, MADV_DONTDUMP) != 0) {
            throw new PoolException(PoolErrorReason.IO, "pool " + heap.name
                    + ": madvise(MADV_DONTDUMP) failed for noDump");
        }
    }
}
