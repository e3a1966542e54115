package io.jvmem.allocator;

/**
 * Per-thread statistics and allocation tags (jemalloc's tcache stats, FreeBSD malloc(9)'s per-type counters): plain
 * counters in each {@link ThreadCache}, written by its owner only and published to the pool's {@link TagCounters}
 * in batches; the tag of each block, in its slab (small blocks) or its page run's map entry. Summing the counters
 * without locks gives snapshots that may lag by a few operations, as jemalloc's do.
 */
final class Accounting {
    /** For {@link Allocator#free(long, int)}: the block's tag is the one recorded with it (a plain free). */
    static final int RECORDED = -1;

    /** For {@link Allocator#free(long, int)}: {@code tag}, unless the block recorded one, which then wins and is cleared. */
    static int keptUnlessRecorded(int tag) {
        return -2 - tag;
    }

    /** The tag {@code kept} names: itself (≥ 0), or the one given to {@link #keptUnlessRecorded}. */
    static int keptTag(int kept) {
        return kept >= 0 ? kept : -2 - kept;
    }

    /** Counter slot of huge blocks (no size class). */
    static final int HUGE_SLOT = SizeClasses.NCLASSES;

    private final PageMap pageMap;
    private final SlabTable slabs;
    final TagCounters tags;
    /** Set once any small block carries a tag; until then frees skip the slab lookup for the tag. */
    volatile boolean smallTags;
    /** Blocks (and their usable bytes) found live when the pool was reopened: counted as allocated, not as mallocs. */
    long inheritedBlocks;
    long inheritedBytes;

    Accounting(PageMap pageMap, SlabTable slabs, TagCounters tags) {
        this.pageMap = pageMap;
        this.slabs = slabs;
        this.tags = tags;
    }

    /**
     * A block handed out: its bytes counted under {@code tag}, which is recorded with the block if {@code record}
     * (else the caller keeps it for malloc(9)'s typed free, and the slab is not looked up at all).
     */
    void onAlloc(ThreadCache tc, long off, int cls, int tag, boolean record, boolean popped) {
        long usable;
        if (cls >= 0 && SizeClasses.isSmall(cls)) {
            usable = SizeClasses.size(cls);
            if (tag != 0 && record) { // slabAt written out: one call less, as this runs deep below the agent's calls (see RoutedArena.block)
                if (!smallTags) {
                    smallTags = true;
                }
                slabs.ofEntry(pageMap.get(off >>> SizeClasses.LG_PAGE)).setTag(off, tag);
            }
        } else if (tag != 0 && record || cls < 0) {
            usable = tagRun(off, cls, record ? tag : 0); // a fresh or cached run's entry carries tag 0 already
        } else {
            usable = SizeClasses.size(cls); // a cached or fresh run's entry carries tag 0 already
        }
        if (popped) {
            countStacked(tc, usable, tag, 1);
        } else {
            count(tc, cls, usable, tag, 1);
        }
    }

    /**
     * With the debugging aids a kept tag is recorded as any other: a typed free (block at heap offset {@code off}, page
     * map entry {@code e}) that names another tag than the allocation did throws, changing nothing.
     */
    void checkKept(Allocator heap, long address, long off, long e, int kept) {
        int recorded = PageMap.kind(e) == PageMap.SLAB ? (smallTags ? slabs.ofEntry(e).tag(off) : 0) : PageMap.tag(e);
        if (recorded != kept) {
            throw heap.invalid(address, "free", "freed as tag " + AllocationTag.byId(kept).name() + ", allocated as "
                    + AllocationTag.byId(recorded).name());
        }
    }

    /** A block taken back; {@code pushed}: onto the thread's stack, whose word counts the free. */
    void onFree(ThreadCache tc, int cls, int tag, long e, boolean pushed) {
        long usable = cls >= 0 ? SizeClasses.size(cls) : PageMap.pages(e) << SizeClasses.LG_PAGE;
        if (pushed) {
            countStacked(tc, usable, tag, -1);
        } else {
            count(tc, cls, usable, tag, -1);
        }
    }

    /**
     * The tag a small block (slab page entry {@code e}) is freed under, for a caller that did not keep one:
     * {@link #RECORDED}, or {@link #keptUnlessRecorded} of a tag. A tag recorded with the block
     * wins and is cleared from its slab (so a block of {@code malloc(size, tag)} freed malloc(9)-style, with its tag,
     * leaves nothing behind for the next block there).
     */
    int smallTagAtFree(long e, long off, int kept) {
        int recorded = smallTags ? takeSmallTag(e, off) : 0;
        return recorded != 0 || kept == RECORDED ? recorded : keptTag(kept);
    }

    /** As {@link #smallTagAtFree} for a page run, whose tag is in its page map entry; a kept tag (≥ 0) as it is. */
    static int runTagAtFree(long e, int kept) {
        int recorded = PageMap.tag(e);
        return kept >= 0 ? kept : recorded != 0 || kept == RECORDED ? recorded : keptTag(kept);
    }

    /** The tag of a small block being freed (slab page entry {@code e}), cleared in its slab. */
    int takeSmallTag(long e, long off) {
        return slabs.ofEntry(e).takeTag(off);
    }

    /** A tagged page run going into a thread cache: its entry goes back to tag 0, so an untagged malloc need not look. */
    void untagRun(long off, long e) {
        pageMap.set(off >>> SizeClasses.LG_PAGE, PageMap.withTag(e, 0));
    }

    /** Records the tag of a page run being handed out; returns its usable bytes. */
    private long tagRun(long off, int cls, int tag) {
        long page = off >>> SizeClasses.LG_PAGE;
        long e = pageMap.get(page);
        if (PageMap.tag(e) != tag) {
            pageMap.set(page, PageMap.withTag(e, tag));
        }
        return cls >= 0 ? SizeClasses.size(cls) : PageMap.pages(e) << SizeClasses.LG_PAGE;
    }

    /**
     * Per-thread counters of one block handed out ({@code sign} 1) or taken back (-1). Kept small so that it inlines
     * into the fast paths; the shared cache of unowned threads, huge blocks, tags and publication are out of line.
     */
    void count(ThreadCache tc, int cls, long usable, int tag, int sign) {
        if (tc.owner == null || cls < 0) {
            countRare(tc, cls, usable, tag, sign);
            return;
        }
        if (sign > 0) {
            tc.nmalloc[cls]++;
        } else {
            tc.nfree[cls]++;
        }
        countStacked(tc, usable, tag, sign);
    }

    /**
     * {@link #count} of a block popped from or pushed onto the thread's own stack (so the cache is owned and the class
     * cached): the stack's word has counted the operation, only the bytes are counted here.
     */
    void countStacked(ThreadCache tc, long usable, int tag, int sign) {
        long q = tc.allPending + sign * usable;
        if (q > tc.allPendingMax) {
            if (q > TagCounters.PUBLISH_BYTES) {
                publishTotal(tc, q);
                q = 0;
            } else {
                tc.allPendingMax = q;
            }
        } else if (q < -TagCounters.PUBLISH_BYTES) {
            publishTotal(tc, q);
            q = 0;
        }
        tc.allPending = q;
        if (tag != 0) {
            countTagOwned(tc, tag, usable, sign);
        } else if (sign > 0) {
            tc.untaggedBytes += usable; // a tag counts its own bytes: one store less on the tagged paths
        }
    }

    /** Publishes an owned cache's pending total {@code q} and zeroes it (as one move for snapshots, see {@link TagCounters#moveLock}). */
    private void publishTotal(ThreadCache tc, long q) {
        synchronized (tags.moveLock) {
            tags.publishTotal(q, tc.allPendingMax);
            tc.allPendingMax = 0;
            tc.allPending = 0;
        }
    }

    /** Unowned (shared) caches under their lock, and huge blocks, which have no class slot. */
    private void countRare(ThreadCache tc, int cls, long usable, int tag, int sign) {
        if (tc.owner == null) {
            synchronized (tc) {
                countAny(tc, cls, usable, tag, sign);
            }
        } else {
            countAny(tc, cls, usable, tag, sign);
        }
    }

    private void countAny(ThreadCache tc, int cls, long usable, int tag, int sign) {
        int slot = cls < 0 ? HUGE_SLOT : cls;
        if (sign > 0) {
            tc.nmalloc[slot]++;
            if (tag == 0) {
                tc.untaggedBytes += usable;
            }
        } else {
            tc.nfree[slot]++;
        }
        if (slot == HUGE_SLOT) {
            tc.hugeBytes += sign * usable; // class sizes give the rest of the allocated bytes
        }
        long q = tc.allPending + sign * usable;
        if (tc.owner == null) { // publishes at once: its pending total stays 0
            tags.publishTotal(q, tc.allPendingMax);
            q = 0;
            tc.allPendingMax = 0;
        } else if (q > TagCounters.PUBLISH_BYTES || q < -TagCounters.PUBLISH_BYTES) {
            publishTotal(tc, q);
            q = 0;
        } else if (q > tc.allPendingMax) {
            tc.allPendingMax = q;
        }
        tc.allPending = q;
        if (tag != 0) {
            countTag(tc, tag, usable, sign);
        }
    }

    /**
     * Untagged in-use bytes are derived (allocated minus every tag's in-use bytes), so only tagged blocks come here;
     * the shared cache of unowned threads publishes at once.
     */
    private void countTag(ThreadCache tc, int tag, long usable, int sign) {
        if (tc.owner == null) {
            countTagRare(tc, tag, usable, sign);
        } else {
            countTagOwned(tc, tag, usable, sign);
        }
    }

    /**
     * {@link #countTag} in an owned cache ({@link #count} has looked). The common case (a tag this thread has counted
     * before, nothing to publish) stays small enough to inline into malloc and free: tagged pairs cost 27 ns more than
     * untagged ones when this was one method that C2 would not inline. One {@link ThreadCache.TagSlot} object per tag,
     * four fields at fixed offsets, measured 2–4 ns faster per routed 64 B segment than a strided long[].
     */
    private void countTagOwned(ThreadCache tc, int tag, long usable, int sign) {
        if (tag != tc.homeTag) {
            countTagAway(tc, tag, usable, sign);
            return;
        }
        long p = tc.homePending + sign * usable;
        if (sign > 0) {
            tc.homeRequests++;
            tc.homeBytes += usable;
            if (p > tc.homePendingMax) {
                if (p > TagCounters.PUBLISH_BYTES) {
                    p = publishHome(tc, tag, p);
                } else {
                    tc.homePendingMax = p;
                }
            }
        } else if (p < -TagCounters.PUBLISH_BYTES) {
            p = publishHome(tc, tag, p);
        }
        tc.homePending = p;
    }

    private long publishHome(ThreadCache tc, int tag, long p) {
        synchronized (tags.moveLock) {
            tags.publish(tag, p, tc.homePendingMax);
            tc.homePendingMax = 0;
            tc.homePending = 0;
        }
        return 0;
    }

    /** {@link #countTagOwned} of a tag other than the home tag: in its slot, or made home (see {@link ThreadCache#homeTag}). */
    private void countTagAway(ThreadCache tc, int tag, long usable, int sign) {
        if (tc.homeTag == 0 || ++tc.homeMisses > ThreadCache.HOME_MISSES) {
            tc.rehome(tag);
            countTagOwned(tc, tag, usable, sign);
            return;
        }
        ThreadCache.TagSlot[] slots = tc.tagSlots;
        ThreadCache.TagSlot t;
        if (tag >= slots.length || (t = slots[tag]) == null) {
            countTagRare(tc, tag, usable, sign);
            return;
        }
        long p = t.pending + sign * usable;
        if (sign > 0) {
            t.requests++;
            t.bytes += usable;
            if (p > t.pendingMax) {
                if (p > TagCounters.PUBLISH_BYTES) {
                    p = publishTag(t, tag, p);
                } else {
                    t.pendingMax = p;
                }
            }
        } else if (p < -TagCounters.PUBLISH_BYTES) {
            p = publishTag(t, tag, p);
        }
        t.pending = p;
    }

    /** Publishes an owned slot's pending {@code p} and zeroes it (one move for snapshots, see {@link TagCounters#moveLock}). */
    private long publishTag(ThreadCache.TagSlot t, int tag, long p) {
        synchronized (tags.moveLock) {
            tags.publish(tag, p, t.pendingMax);
            t.pendingMax = 0;
            t.pending = 0;
        }
        return 0;
    }

    /** A tag this thread has no counters for yet, or the shared cache of unowned threads (publishes at once). */
    private void countTagRare(ThreadCache tc, int tag, long usable, int sign) {
        ThreadCache.TagSlot t = tc.tagSlot(tag);
        if (tc.owner != null) {
            countTagOwned(tc, tag, usable, sign); // made now: the common path
            return;
        }
        if (sign > 0) {
            t.requests++;
            t.bytes += usable;
        }
        tags.publish(tag, t.pending + sign * usable, t.pendingMax); // not a move: its pending stays 0
        t.pending = 0;
        t.pendingMax = 0;
    }

    /** A block found live at reopen (into {@code retired}): allocated, but not a malloc of this session. */
    void inherit(ThreadCache retired, int cls, long usable) {
        int slot = cls < 0 ? HUGE_SLOT : cls;
        retired.nmalloc[slot]++;
        if (cls < 0) {
            retired.hugeBytes += usable;
        }
        inheritedBlocks++;
        inheritedBytes += usable;
    }

    /** Moves a dead thread's counters into {@code retired} and publishes what it had pending. */
    void retire(ThreadCache tc, ThreadCache retired) {
        synchronized (retired) {
            tc.addClassCounts(retired.nmalloc, retired.nfree); // the retired cache has no stack: its arrays count all
            retired.hugeBytes += tc.hugeBytes;
            retired.untaggedBytes += tc.untaggedBytes;
        }
        tags.publishTotal(tc.allPending, tc.allPendingMax);
        tc.rehome(0); // the home tag's counters back into its slot
        ThreadCache.TagSlot[] st = tc.tagSlots;
        for (int t = 0; t < st.length; t++) {
            ThreadCache.TagSlot s = st[t];
            if (s == null) {
                continue;
            }
            if (s.pending != 0 || s.pendingMax > 0) { // a peak not yet published: its only record
                tags.publish(t, s.pending, s.pendingMax);
            }
            if (s.requests != 0) {
                tags.retireRequests(t, s.requests);
                tags.retireBytes(t, s.bytes);
            }
        }
    }
}
