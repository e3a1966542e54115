package io.jvmem.allocator;

import java.util.Arrays;

/**
 * Slab ids to slabs (jemalloc's emap for slabs): every page of a slab carries its slab id in the page map, and this
 * table turns the id into the in-heap {@link Slab}, so a small block finds its slab in O(1). Ids are reused; they mean
 * nothing after a close (see {@link PageMap}). Lookups read a volatile array without a lock; changes take one.
 */
final class SlabTable {
    private final PageMap pageMap;
    private final PageAllocator pages;
    private final Object lock = new Object();
    private volatile Slab[] slabs = new Slab[64];
    private int[] freeIds = new int[16];
    private int freeIdCount;
    private int idEnd;

    SlabTable(PageMap pageMap, PageAllocator pages) {
        this.pageMap = pageMap;
        this.pages = pages;
    }

    /** A new slab of class {@code cls} owned by {@code arena}, from fresh pages; null when no page run fits. */
    Slab newSlab(int cls, HeapArena arena) {
        int npages = SizeClasses.slabPages(cls);
        boolean[] zero = new boolean[1];
        long start = pages.alloc(npages, SizeClasses.PAGE, cls, 0, zero);
        if (start < 0) {
            return null;
        }
        return register(cls, start, arena);
    }

    /** Gives a slab an id and writes its pages' entries (also for slabs found while rebuilding). */
    Slab register(int cls, long start, HeapArena arena) {
        int id;
        Slab s;
        synchronized (lock) {
            id = freeIdCount > 0 ? freeIds[--freeIdCount] : idEnd++;
            s = new Slab(id, cls, start, arena);
            Slab[] table = slabs;
            if (id >= table.length) {
                table = Arrays.copyOf(table, Math.max(id + 1, table.length * 2));
            }
            table[id] = s;
            slabs = table;
        }
        for (int i = 0; i < SizeClasses.slabPages(cls); i++) {
            pageMap.set(start + i, PageMap.slab(id, cls, i));
        }
        return s;
    }

    /** Retires an empty slab's id and returns its pages to the page allocator. */
    void freeSlab(Slab s) {
        synchronized (lock) {
            slabs[s.id] = null;
            if (freeIdCount == freeIds.length) {
                freeIds = Arrays.copyOf(freeIds, freeIdCount * 2);
            }
            freeIds[freeIdCount++] = s.id;
            slabs = slabs; // publish
        }
        pages.free(s.startPage, SizeClasses.slabPages(s.cls));
    }

    /** The slab holding heap offset {@code off}, which must lie in a slab page. */
    Slab slabAt(long off) {
        return slabs[PageMap.slabId(pageMap.get(off >>> SizeClasses.LG_PAGE))];
    }

    /** The slab of a slab page entry {@code e}. */
    Slab ofEntry(long e) {
        return slabs[PageMap.slabId(e)];
    }

    Slab byId(int id) {
        Slab[] t = slabs;
        return id >= 0 && id < t.length ? t[id] : null;
    }

    /** One past the highest id ever given out. */
    int idEnd() {
        synchronized (lock) {
            return idEnd;
        }
    }
}
