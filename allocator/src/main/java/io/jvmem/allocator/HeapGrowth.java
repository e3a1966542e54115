package io.jvmem.allocator;

import java.util.ArrayList;
import java.util.List;

/**
 * The heap as a sequence of chunks (jemalloc's extents, mimalloc's segments): the chunk the pool was created with,
 * then one per growth step of a growable pool. Address space for the maximum size is reserved when the pool is made,
 * so a chunk is the next stretch of it: the file is extended, the stretch mapped at its fixed address and placed
 * (NUMA policy, huge pages) and its pages reserved, all before the page allocator hands out any of it; blocks never
 * move. Each step is recorded in the pool header (size and heap pages), so a close-to-open pool reopens at its grown
 * size. Called by the page allocator under its lock.
 */
final class HeapGrowth {
    /** Largest growth step: steps double the heap up to this, then add this much. */
    static final long STEP_MAX = 64L << 20;

    private final Allocator heap;
    private final MappedFile file;
    private final PoolLayout layout;
    /** {first heap page, pages} per chunk, in address order. */
    private final List<long[]> chunks = new ArrayList<>();

    HeapGrowth(Allocator heap, MappedFile file, PoolLayout layout, long heapPages) {
        this.heap = heap;
        this.file = file;
        this.layout = layout;
        chunks.add(new long[] {0, heapPages});
    }

    /**
     * Grows the heap from {@code currentPages} so that it gains at least {@code needPages} pages; returns the new
     * number of heap pages, or -1 with the reason in {@link MemoryPool#lastError()}: {@link PoolErrorReason#MAX_SIZE}
     * at the maximum size, {@link PoolErrorReason#NO_SPACE} when the file system cannot hold the step.
     */
    long grow(long currentPages, long needPages) {
        long target = currentPages + needPages;
        if (target > layout.maxHeapPages) {
            Errors.set(PoolErrorReason.MAX_SIZE, "pool " + heap.name + " is at its maximum size of " + layout.maxSize
                    + " bytes (" + (layout.maxHeapPages - currentPages) + " heap pages left to grow by, "
                    + needPages + " needed)");
            return -1;
        }
        long step = Math.max(needPages, Math.min(STEP_MAX >>> SizeClasses.LG_PAGE, Math.max(currentPages, 1)));
        long newSize = layout.sizeFor(Math.min(layout.maxHeapPages, currentPages + step));
        if (!file.extendTo(newSize)) {
            long least = layout.sizeFor(target);
            if (least >= newSize || Errors.lastReason() != PoolErrorReason.NO_SPACE || !file.extendTo(least)) {
                return -1; // the file system may still hold what this request needs alone: tried above
            }
            newSize = least;
        }
        long newPages = layout.heapPagesAt(newSize);
        NoDump.apply(heap, heap.poolSize, newSize - heap.poolSize); // the new stretch is a new mapping
        synchronized (heap.headerLock) {
            layout.setSize(heap.pool, newSize);
        }
        heap.poolSize = newSize;
        synchronized (chunks) {
            chunks.add(new long[] {currentPages, newPages - currentPages});
        }
        return newPages;
    }

    /** Number of chunks the heap is made of. */
    int chunkCount() {
        synchronized (chunks) {
            return chunks.size();
        }
    }
}
