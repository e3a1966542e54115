package io.jvmem.allocator;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Per-thread stacks of free blocks, one per size class up to the cache limit, so that a malloc/free pair in steady
 * state touches no lock: malloc pops, free pushes. A miss fills half a stack from the thread's arena (small classes)
 * or takes one run from the page allocator (page-run classes); an overflow flushes the older half back. Only the
 * owning thread touches a cache, except after that thread died (then the pool's maintenance thread drains it).
 *
 * <p>Also the per-thread statistics counters, plain longs written by the owner only (or by the thread that drains a
 * dead owner's cache): summing them without locks gives snapshots that may lag by a few operations, as jemalloc's do.
 * The two changes that move counts from one field to another (a stack's fill or flush, a new home tag) hold a
 * sequence lock that statistics read under, so a snapshot never counts a block twice or not at all.
 */
final class ThreadCache {
    final Thread owner;
    /** The pool's caches this one belongs to: a cache handed back as a hint ({@link ThreadCaches#enter(Object, ThreadCache[])}) must be this pool's. */
    final ThreadCaches home;
    final HeapArena arena;
    final long[][] bins;
    /**
     * Per cached class, the stack's word: its height in the low {@link #HEIGHT_BITS} bits, above them the pops and
     * pushes made since the class's last slow-path change ({@link #setHeight}). A pop or push writes this word anyway,
     * so it counts the malloc or free in the same store: separate per-class counters cost 3–5 ns per typed 64 B
     * malloc/free pair (the allocator alone, measured in one JVM against this). Which of the two it was is derived,
     * exactly, in {@link #addClassCounts}: height = slow-path changes + pushes - pops. The count has 56 bits and is
     * folded out at every slow-path change: it wraps only after 2^55 pairs with no fill or flush of the class.
     */
    final long[] stack;
    final int[] caps;
    /** Per cached class, under {@link #seq}: the pops and pushes folded out of {@link #stack} at slow-path changes. */
    private final long[] stackOps;
    /** Per cached class, under {@link #seq}: the sum of the slow-path changes of the stack's height (fills, flushes). */
    private final long[] slowDelta;
    /** Even when no slow-path change of the stacks is under way; odd during one (a sequence lock for statistics). */
    private int seq;
    /**
     * Per class (plus one slot for huge): blocks handed out and taken back through this thread other than by a pop or
     * push of its stack (those the stack's word counts).
     */
    final long[] nmalloc = new long[SizeClasses.NCLASSES + 1];
    final long[] nfree = new long[SizeClasses.NCLASSES + 1];
    /** Bytes of huge blocks handed out minus taken back through this thread (classes count blocks, not bytes). */
    long hugeBytes;
    /**
     * Per tag id: this thread's counters of that tag, null until the thread first counts it. An object per tag, not a
     * strided long[]: its four counters sit at fixed offsets, so a tagged malloc or free checks one index, not four.
     */
    TagSlot[] tagSlots = new TagSlot[8];

    /**
     * One tag's counters in one thread: {@link #pending} bytes not yet published to the tag's global counter,
     * {@link #pendingMax} the highest pending value since the last publication (makes peaks exact per thread),
     * {@link #requests} and {@link #bytes} (usable bytes handed out, cumulative). Written by the owner only; read
     * without locks by statistics, which may lag by a few operations.
     */
    static final class TagSlot {
        long pending;
        long pendingMax;
        long requests;
        long bytes;
    }
    /**
     * The thread's home tag (0: none yet) and its counters, the same four as a {@link TagSlot}'s, kept in this object:
     * a tagged malloc or free of the home tag touches no slot table and no slot, two dependent loads less on a path
     * whose every step hangs off this cache (a routed 64 B segment measured 2.5 ns faster). The home tag is the
     * thread's first, and moves to another after {@link #HOME_MISSES} operations of other tags ({@link #rehome}).
     * While a tag is home its slot's pending counters are zero; statistics add the two.
     */
    int homeTag;
    long homePending;
    long homePendingMax;
    long homeRequests;
    long homeBytes;
    /** Tagged operations of other tags than the home tag since it last moved. */
    int homeMisses;
    static final int HOME_MISSES = 64;

    /** Usable bytes of untagged blocks handed out (cumulative; each tag counts its own in its {@link TagSlot}). */
    long untaggedBytes;
    /** All blocks: the unpublished in-use delta and its maximum. */
    long allPending;
    long allPendingMax;
    /** Operations of this cache's thread in flight (gated pools); written by the owner, read by a closing thread. */
    int busy;
    /** Set by another thread that ran out of memory: give everything back at the next slow path. */
    volatile boolean flushRequested;
    /** Whether the run last taken by the slow path reads as zero (so calloc can skip zeroing). */
    boolean lastZero;

    /** Bytes of page-run blocks cached here, and their bound. */
    long largeBytes;
    final long maxLargeBytes;

    ThreadCache(Thread owner, ThreadCaches home, HeapArena arena, int maxClass) {
        this(owner, home, arena, maxClass, 4L << 20);
    }

    ThreadCache(Thread owner, ThreadCaches home, HeapArena arena, int maxClass, long maxLargeBytes) {
        this.maxLargeBytes = maxLargeBytes;
        this.owner = owner;
        this.home = home;
        this.arena = arena;
        int n = maxClass + 1;
        this.bins = new long[n][];
        this.stack = new long[n];
        this.stackOps = new long[n];
        this.slowDelta = new long[n];
        this.caps = new int[n];
        for (int c = 0; c < n; c++) {
            long size = SizeClasses.size(c);
            int cap = SizeClasses.isSmall(c)
                    ? (int) Math.max(4, Math.min(64, (64 * 1024) / size))
                    : (int) Math.max(2, Math.min(8, (1L << 20) / size));
            caps[c] = cap;
            bins[c] = new long[cap];
        }
    }

    /** Bits of a {@link #stack} word that hold the height (the caps are at most 64). */
    static final int HEIGHT_BITS = 8;
    private static final long HEIGHT_MASK = (1L << HEIGHT_BITS) - 1;
    /** Added to a stack word by a pop: height - 1, one operation more. */
    static final long POP = (1L << HEIGHT_BITS) - 1;
    /** Added to a stack word by a push: height + 1, one operation more. */
    static final long PUSH = (1L << HEIGHT_BITS) + 1;

    /** The height of the stack whose word is {@code w}. */
    static int height(long w) {
        return (int) (w & HEIGHT_MASK);
    }

    /** Blocks cached for class {@code cls} (which must be cached here). */
    int height(int cls) {
        return height(stack[cls]);
    }

    /** Pops a cached block of class {@code cls}; -1 if the stack is empty or the class is not cached. */
    long pop(int cls) {
        if (cls >= stack.length) {
            return -1;
        }
        long w = stack[cls];
        int n = height(w);
        if (n == 0) {
            return -1;
        }
        stack[cls] = w + POP;
        if (cls >= SizeClasses.NSMALL) {
            largeBytes -= SizeClasses.size(cls);
        }
        return bins[cls][n - 1];
    }

    /** Pushes a block; false if the class is not cached here or the stack is full (caller flushes then retries). */
    boolean push(int cls, long off) {
        if (cls >= stack.length) {
            return false;
        }
        long w = stack[cls];
        int n = height(w);
        if (n == caps[cls]) {
            return false;
        }
        bins[cls][n] = off;
        stack[cls] = w + PUSH;
        if (cls >= SizeClasses.NSMALL) {
            largeBytes += SizeClasses.size(cls);
        }
        return true;
    }

    /**
     * A slow-path change of a stack's height (a fill, a flush): by the owner, or by a thread that drains or quiesces
     * this cache while its owner cannot run. Statistics read the stacks through the sequence lock.
     */
    void setHeight(int cls, int h) {
        beginChange();
        long w = stack[cls];
        slowDelta[cls] += h - height(w);
        stackOps[cls] += w >>> HEIGHT_BITS; // folded here, so the word's count never wraps in practice
        stack[cls] = h;
        endChange();
    }

    /**
     * Adds this thread's mallocs and frees per class (the huge slot included) into {@code nm} and {@code nf}: those
     * counted by the slow paths, and the stack's pops and pushes, derived from its word. Called by statistics from any
     * thread, without stopping the owner: may lag by a few operations, as jemalloc's counters do.
     */
    void addClassCounts(long[] nm, long[] nf) {
        int n = stack.length;
        long[] words = new long[n];
        long[] ops = new long[n];
        long[] delta = new long[n];
        readConsistent(() -> {
            System.arraycopy(stack, 0, words, 0, n);
            System.arraycopy(stackOps, 0, ops, 0, n);
            System.arraycopy(slowDelta, 0, delta, 0, n);
        });
        for (int i = 0; i < nm.length; i++) {
            nm[i] += nmalloc[i];
            nf[i] += nfree[i];
        }
        for (int c = 0; c < n; c++) {
            long total = ops[c] + (words[c] >>> HEIGHT_BITS); // pops + pushes
            long net = height(words[c]) - delta[c]; // pushes - pops
            nm[c] += Math.max(0, (total - net) >> 1);
            nf[c] += Math.max(0, (total + net) >> 1);
        }
    }

    /**
     * Makes {@code tag} the home tag (0: none): the old home tag's counters go back into its slot, the new one's
     * pending counters come out of its slot. By the owner, or by the thread retiring a dead owner's cache.
     */
    void rehome(int tag) {
        beginChange();
        if (homeTag != 0) {
            TagSlot old = tagSlot(homeTag);
            old.pending = homePending; // its slot's were moved here, so these are all of the tag's
            old.pendingMax = homePendingMax;
            old.requests += homeRequests;
            old.bytes += homeBytes;
        }
        homePending = 0;
        homePendingMax = 0;
        homeRequests = 0;
        homeBytes = 0;
        homeMisses = 0;
        if (tag != 0) {
            TagSlot s = tagSlot(tag);
            homePending = s.pending;
            homePendingMax = s.pendingMax;
            s.pending = 0;
            s.pendingMax = 0;
        }
        homeTag = tag;
        endChange();
    }

    /**
     * Adds this thread's counters of each tag below {@code requests.length} (its slot's, and the home tag's) into the
     * four arrays. Called by statistics from any thread, as {@link #addClassCounts}.
     */
    void addTagCounts(long[] requests, long[] bytes, long[] pending, long[] pendingMax) {
        int n = requests.length;
        long[][] v = new long[4][n];
        readConsistent(() -> {
            for (long[] a : v) {
                java.util.Arrays.fill(a, 0);
            }
            TagSlot[] st = tagSlots; // one read: the owner may replace it with a larger copy meanwhile
            for (int t = 0; t < Math.min(st.length, n); t++) {
                TagSlot slot = st[t];
                if (slot != null) {
                    v[0][t] = slot.requests;
                    v[1][t] = slot.bytes;
                    v[2][t] = slot.pending;
                    v[3][t] = slot.pendingMax;
                }
            }
            int h = homeTag;
            if (h > 0 && h < n) {
                v[0][h] += homeRequests;
                v[1][h] += homeBytes;
                v[2][h] += homePending;
                v[3][h] += homePendingMax;
            }
        });
        for (int t = 0; t < n; t++) {
            requests[t] += v[0][t];
            bytes[t] += v[1][t];
            pending[t] += v[2][t];
            pendingMax[t] += v[3][t];
        }
    }

    /** Starts a change of counters read under {@link #seq}: odd, and ordered before the change's stores. */
    private void beginChange() {
        SEQ.setOpaque(this, seq + 1); // odd: a reader retries
        VarHandle.storeStoreFence(); // (a seqlock: the odd value must not be seen after the stores it guards)
    }

    /** Ends a change begun by {@link #beginChange}: even again, after the change's stores. */
    private void endChange() {
        SEQ.setRelease(this, seq + 1);
    }

    /**
     * Runs {@code read} (plain reads of counters under {@link #seq}, into the caller's arrays) until it ran with no
     * change under way, waiting for a preempted writer as {@link #awaitWriter} says.
     */
    private void readConsistent(Runnable read) {
        long[] stalled = {0};
        for (int attempt = 0; ; attempt++) {
            int s = (int) SEQ.getAcquire(this);
            read.run();
            VarHandle.acquireFence();
            if ((s & 1) == 0 && (int) SEQ.getOpaque(this) == s || !awaitWriter(attempt, stalled)) {
                return;
            }
        }
    }

    /** Spins of a reader that finds a change under way before it yields to the writer instead. */
    private static final int SPINS = 1000;
    /** How long a reader waits for a change to end: only a writer that died inside one takes this long. */
    private static final long STALL_NANOS = 2_000_000_000L;

    /**
     * For a reader under {@link #seq} that saw a change under way on its {@code attempt}-th read: waits before the
     * next read and returns true. A half-made change must not be returned: it counts the moved counters twice or not
     * at all (a fold: all the pops and pushes since the last one). A writer preempted inside a change holds the
     * sequence odd for a whole time slice, so after spinning the reader yields; only after {@link #STALL_NANOS}
     * (a writer that died inside, leaving its counters as they are) does it return false, to take what it read.
     * {@code stalled} holds when the yielding began.
     */
    private static boolean awaitWriter(int attempt, long[] stalled) {
        if (attempt < SPINS) {
            Thread.onSpinWait();
            return true;
        }
        long now = System.nanoTime();
        if (stalled[0] == 0) {
            stalled[0] = now;
        } else if (now - stalled[0] > STALL_NANOS) {
            return false;
        }
        Thread.yield();
        return true;
    }

    private static final VarHandle SEQ;

    static {
        try {
            SEQ = MethodHandles.lookup().findVarHandle(ThreadCache.class, "seq", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * Whether a freed block of a page-run class may stay here: page runs cached by a thread are lost to every other
     * request (and to coalescing), so their total per thread is bounded, not only their count per class.
     */
    boolean roomFor(int cls) {
        return cls < SizeClasses.NSMALL || largeBytes + SizeClasses.size(cls) <= maxLargeBytes;
    }

    /** Called when {@code n} blocks of class {@code cls} left the stack other than by {@link #pop}. */
    void removed(int cls, int n) {
        if (cls >= SizeClasses.NSMALL) {
            largeBytes -= n * SizeClasses.size(cls);
        }
    }

    boolean caches(int cls) {
        return cls < stack.length;
    }

    /** How many tags {@link #tagSlots} has room for. */
    int tagCapacity() {
        return tagSlots.length;
    }

    /** This thread's counters of {@code tag}, made (and the table grown) on first use. */
    TagSlot tagSlot(int tag) {
        TagSlot[] t = tagSlots;
        if (tag >= t.length) {
            t = java.util.Arrays.copyOf(t, Math.max(tag + 1, t.length * 2));
            tagSlots = t;
        }
        TagSlot s = t[tag];
        if (s == null) {
            s = new TagSlot();
            t[tag] = s;
        }
        return s;
    }

    long cachedBytes() {
        long b = 0;
        for (int c = 0; c < stack.length; c++) {
            b += height(c) * SizeClasses.size(c);
        }
        return b;
    }
}
