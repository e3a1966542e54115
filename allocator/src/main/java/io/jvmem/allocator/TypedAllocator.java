package io.jvmem.allocator;

/**
 * One pool's malloc(9) with the type kept by the caller, for one tag ({@link MemoryPool#typed}): the same blocks and
 * counters as {@link MemoryPool#mallocTyped} and {@link MemoryPool#free(long, AllocationTag)}, with the pool's
 * allocator, thread caches and the tag's id resolved once, so that a call follows fewer references before it reaches
 * the calling thread's cache (each dependent load costs ~1.7 ns on the hot path). Thread-safe; immutable.
 */
public final class TypedAllocator {
    private final PoolBase pool;
    private final Allocator heap;
    private final ThreadCaches caches;
    private final ThreadCache[] slots;
    private final Waiters waiters;
    private final AllocationTag tag;
    private final int id;

    TypedAllocator(PoolBase pool, AllocationTag tag) {
        this.pool = pool;
        this.heap = pool.heap;
        this.caches = pool.heap.caches;
        this.slots = caches.slots();
        this.waiters = pool.waiters;
        this.tag = tag;
        this.id = tag.id();
    }

    /** As {@link MemoryPool#mallocTyped(long, AllocationTag)} with this tag: a block, or 0 with a reason. */
    public long malloc(long size) {
        return malloc(null, size);
    }

    /**
     * {@link #malloc(long)} with a thread-cache hint from {@link #threadCache()} (see there); a null or stale hint is
     * ignored.
     */
    public long malloc(Object threadCache, long size) {
        return malloc(threadCache, size, false);
    }

    /**
     * {@link #malloc(Object, long)} for a caller that overwrites the block's first 8 bytes before it can be freed, such
     * as an arena segment, which is zeroed whole: the allocator leaves the mark by which its free detects a double
     * free (a key in a free block's first word, as glibc's tcache keeps) for the caller to overwrite, one store less.
     * A block freed with that word untouched is refused as a double free ({@link InvalidFreeException}) and kept, and
     * {@link MemoryPool#check()} reports it.
     */
    public long malloc(Object threadCache, long size, boolean callerOverwrites) {
        ThreadCache tc = caches.enter(threadCache, slots);
        long a;
        try {
            a = heap.malloc(tc, size, id, true, !callerOverwrites);
        } finally {
            caches.exit(tc);
        }
        if (a != 0) {
            PoolEvents.sample(pool, size, tag);
        }
        return a;
    }

    /**
     * As {@link MemoryPool#free(long, AllocationTag)} with this tag: frees a block of {@link #malloc}; 0 is a no-op.
     * Throws {@link InvalidFreeException} for anything that is not a live block of the pool (a double free included).
     * Only this allocator's blocks (or {@link MemoryPool#mallocTyped}'s): it does not look for a recorded tag, which
     * is what keeps it cheap, so a block of {@link MemoryPool#malloc(long, AllocationTag)} is freed with
     * {@link MemoryPool#free(long, AllocationTag)} or {@link MemoryPool#free(long)}.
     */
    public void free(long address) {
        free(null, address);
    }

    /**
     * {@link #free(long)} with a thread-cache hint from {@link #threadCache()} (see there); a null or stale hint is
     * ignored. The block may have been allocated on any thread.
     */
    public void free(Object threadCache, long address) {
        if (address != 0) {
            heap.freeEntered(caches.enter(threadCache, slots), address, id);
        }
        if (waiters.waiting()) {
            Malloc9.freed(pool); // M_WAITOK callers wait for this
        }
    }

    /**
     * The calling thread's cache of this pool (jemalloc's tcache), as an opaque hint for {@link #malloc(Object, long)}
     * and {@link #free(Object, long)} later on the same thread: with it they skip finding the cache, which is the
     * most part of a cached pair's dependent loads. For a caller that already holds per-thread state, such as the
     * cleanup of a segment whose arena is confined to the thread that allocated it. A hint used on another thread,
     * or with another pool, is ignored: it costs the lookup, never a wrong cache. A hint holds its thread's
     * {@code Thread} object. Thread-safe.
     */
    public Object threadCache() {
        return caches.cache(slots);
    }

    public AllocationTag tag() {
        return tag;
    }
}
