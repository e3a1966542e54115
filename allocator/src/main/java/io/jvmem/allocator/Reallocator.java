package io.jvmem.allocator;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * realloc, with jemalloc's rules for page runs ({@code large_ralloc_no_move}):
 * <ul>
 *   <li>a block whose size class does not change stays where it is;</li>
 *   <li>a page run (a page-run class or a huge extent) whose new size is also served by a page run is resized in
 *       place: shrinking gives its tail pages back to the page allocator, growing takes the free pages right after it
 *       when there are enough. The address stays; realloc does not zero the new part;</li>
 *   <li>otherwise (a slab region, a page run becoming a small block, or no free pages after the run) a new block is
 *       allocated, the contents copied and the old block freed. When that allocation fails, realloc returns 0 and the
 *       old block is untouched, as realloc(3).</li>
 * </ul>
 * Statistics count an in-place resize as jemalloc does: the old size freed, the new size allocated (with the tag of
 * the realloc call), so allocated bytes, per-class live counts and per-tag bytes stay exact. With redzones, the
 * block's guard bytes are checked before anything changes (a damaged one throws {@link HeapCorruptionException}
 * and leaves the block as it was) and rewritten around the new size; with junk fill, grown bytes read as a new
 * block's and returned pages as a freed block's.
 *
 * <p>Called inside an operation of the block's owner (the caller holds the block), so only the page allocator's
 * lock is needed, for the pages around the run.
 */
final class Reallocator {
    private static final MemorySegment ALL = Allocator.all();
    private final Allocator h;

    Reallocator(Allocator heap) {
        this.h = heap;
    }

    long realloc(ThreadCache tc, long address, long size, int tag) {
        if (address == 0) {
            return h.malloc(tc, size, tag, false);
        }
        if (size == 0) {
            h.free(tc, address, Accounting.RECORDED);
            return 0;
        }
        if (size < 0) {
            return Allocator.fail(PoolErrorReason.NEGATIVE_SIZE, "negative size " + size);
        }
        boolean rz = h.options.redzones();
        long block = rz ? Redzones.block(h, address, "realloc") : address;
        long off = h.blockOffset(block, "realloc");
        if (!h.isHandedOut(off)) {
            throw h.invalid(address, "realloc", "no live block starts at this address");
        }
        long usable = h.blockUsable(off);
        long old = usable;
        if (rz) {
            old = ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, address - 8);
            String damage = Redzones.check(block, address, old, usable);
            if (damage != null) {
                throw new HeapCorruptionException(damage);
            }
        }
        boolean debug = rz || h.options.junkFill();
        if (!debug && size <= old && SizeClasses.usable(size) == old) {
            return address;
        }
        long e = h.pageMap.get(off >>> SizeClasses.LG_PAGE);
        if (PageMap.kind(e) == PageMap.LARGE && PageMap.isHead(e) && resizeInPlace(tc, block, address, off, e, size, tag)) {
            return address;
        }
        long fresh = h.allocate(tc, size, 1, tag, false);
        if (fresh == 0) {
            return 0;
        }
        MemorySegment.copy(ALL, address, ALL, fresh, Math.min(old, size));
        h.free(tc, address, Accounting.RECORDED);
        return fresh;
    }

    /**
     * Resizes the page run at heap offset {@code off} (head entry {@code e}) so that its user part at {@code user}
     * holds {@code size} bytes; false, having changed nothing, when it cannot stay where it is.
     */
    private boolean resizeInPlace(ThreadCache tc, long block, long user, long off, long e, long size, int tag) {
        boolean rz = h.options.redzones();
        long req = rz ? size + (user - block) + Redzones.RZ : size;
        if (req < 0 || req > h.maxHeapBytes) {
            return false; // the move reports it
        }
        int cls = SizeClasses.index(req);
        if (cls >= 0 && SizeClasses.isSmall(cls)) {
            return false; // a slab region, never a page run: jemalloc moves it too
        }
        long newUsable = cls >= 0 ? SizeClasses.size(cls) : SizeClasses.pageCeil(req);
        long newPages = newUsable >>> SizeClasses.LG_PAGE;
        long oldPages = PageMap.pages(e);
        long oldUsable = oldPages << SizeClasses.LG_PAGE;
        long page = off >>> SizeClasses.LG_PAGE;
        int mapCls = cls >= 0 ? cls : PageMap.HUGE_CLASS;
        boolean junk = h.options.junkFill();
        if (newPages > oldPages) {
            if (!h.pages.grow(page, oldPages, newPages, mapCls, tag)) {
                return false;
            }
            if (junk) {
                ALL.asSlice(block + oldUsable, newUsable - oldUsable).fill(Redzones.JUNK_ALLOC);
            }
        } else if (newPages < oldPages) {
            if (junk) {
                ALL.asSlice(block + newUsable, oldUsable - newUsable).fill(Redzones.JUNK_FREE);
            }
            h.pages.shrink(page, oldPages, newPages, mapCls, tag);
        } else {
            h.pageMap.set(page, PageMap.withTag(e, tag)); // same run (redzones or junk fill moved its end): new tag
        }
        int oldCls = PageMap.cls(e) == PageMap.HUGE_CLASS ? -1 : PageMap.cls(e);
        h.count(tc, oldCls, oldUsable, PageMap.tag(e), -1);
        h.count(tc, cls, newUsable, tag, 1);
        if (rz) {
            ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, user - 8, size);
            ALL.asSlice(user + size, block + newUsable - (user + size)).fill(Redzones.JUNK_ALLOC);
        }
        return true;
    }
}
