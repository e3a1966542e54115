package io.jvmem.allocator;

/**
 * What a clean close writes into a close-to-open pool besides its checksums, so that the next open can cross-check
 * the structures rather than trust any one of them (see {@link PageMap} and {@link Checker}):
 * <ul>
 *   <li>every slab page gets its slab's number of regions in use, a second record beside the live bits (a live bit
 *       lost on media would otherwise make the next session hand the block out again while the program still holds
 *       it);</li>
 *   <li>a root whose block the program freed is cleared: it would name free memory that the next session hands out
 *       again, and the open-time check refuses a root that names no live block.</li>
 * </ul>
 * Runs after every thread cache was returned and with no operation in flight, so the live bits are exactly the blocks
 * the program holds.
 */
final class AtRest {
    private AtRest() {
    }

    static void record(Allocator h) {
        long root = PoolLayout.root(h.pool);
        if (root != 0 && !h.isLiveBlock(h.base + root)) {
            PoolLayout.setRoot(h.pool, 0);
        }
        int end = h.slabs.idEnd();
        for (int id = 0; id < end; id++) {
            Slab s = h.slabs.byId(id);
            if (s == null) {
                continue;
            }
            int inUse;
            synchronized (s.arena) { // nfree was last written under the arena's lock, by another thread maybe
                inUse = s.nregs - s.nfree;
            }
            for (int i = 0; i < SizeClasses.slabPages(s.cls); i++) {
                h.pageMap.set(s.startPage + i, PageMap.slabAtRest(inUse, s.cls, i));
            }
        }
    }
}
