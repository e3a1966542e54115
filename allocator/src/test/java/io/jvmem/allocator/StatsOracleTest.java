package io.jvmem.allocator;

import static io.jvmem.allocator.ClassCountsTest.classOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Statistics against an oracle that counts every call itself: per class, per tag and the pool's totals, over many
 * threads with several tags each (home tags moving), threads that die before their caches are drained, realloc,
 * calloc, aligned and huge blocks, the debugging aids; and snapshots taken while an owner's counter move (a stack's
 * fold, a publication) is under way.
 */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
@org.junit.jupiter.api.Tag("unit")
class StatsOracleTest {
    /** Small classes, page-run classes and a huge size. */
    private static final long[] SIZES = {8, 48, 64, 512, 3000, 16_384, 70_000, (4L << 20) + 8192};

    /** One thread's oracle: per class slot {mallocs, frees}, per tag index {in use, requests, bytes}. */
    private static final class Oracle {
        final Map<Integer, long[]> classes = new HashMap<>();
        final long[][] tags;

        Oracle(int ntags) {
            tags = new long[ntags][3];
        }

        void malloc(long usable, int slot, int tag) {
            classes.computeIfAbsent(slot, k -> new long[2])[0]++;
            if (tag >= 0) {
                tags[tag][0] += usable;
                tags[tag][1]++;
                tags[tag][2] += usable;
            }
        }

        void free(long usable, int slot, int tag) {
            classes.computeIfAbsent(slot, k -> new long[2])[1]++;
            if (tag >= 0) {
                tags[tag][0] -= usable;
            }
        }

        void addTo(Oracle o) {
            classes.forEach((k, v) -> {
                long[] w = o.classes.computeIfAbsent(k, x -> new long[2]);
                w[0] += v[0];
                w[1] += v[1];
            });
            for (int t = 0; t < tags.length; t++) {
                for (int i = 0; i < 3; i++) {
                    o.tags[t][i] += tags[t][i];
                }
            }
        }
    }

    private static int slotOf(long usable) {
        int cls = SizeClasses.index(usable);
        return cls < 0 ? SizeClasses.NCLASSES : cls;
    }

    /**
     * A random mix of every allocating call, tagged with one of {@code tags} or untagged, on one thread; ends with
     * {@code keep} blocks still live (left to the caller in {@code left}: {address, usable, tag}).
     */
    private static void mix(MemoryPool pool, AllocationTag[] tags, long seed, int ops, Oracle o, List<long[]> left,
                            boolean moveTags) {
        mix(pool, tags, seed, ops, o, left, moveTags, SIZES.length);
    }

    /** As above with only the first {@code nsizes} of {@link #SIZES}. */
    private static void mix(MemoryPool pool, AllocationTag[] tags, long seed, int ops, Oracle o, List<long[]> left,
                            boolean moveTags, int nsizes) {
        Random r = new Random(seed);
        List<long[]> live = new ArrayList<>();
        for (int i = 0; i < ops; i++) {
            if (live.isEmpty() || live.size() < 120 && r.nextInt(100) < 55) {
                // mostly one tag per phase (a home tag), sometimes another, so homes move
                int t = r.nextInt(10) == 0 ? -1 : moveTags ? ((i / 500) + (r.nextInt(8) == 0 ? 1 : 0)) % tags.length
                        : r.nextInt(tags.length);
                long size = SIZES[r.nextInt(100) < 85 ? r.nextInt(5) : 5 + r.nextInt(nsizes - 5)];
                long a;
                int kind = r.nextInt(10);
                AllocationTag tag = t < 0 ? null : tags[t];
                if (kind == 0) {
                    a = tag == null ? pool.calloc(1, size) : pool.calloc(1, size, tag);
                } else if (kind == 1) {
                    long align = 1L << (4 + r.nextInt(9)); // 16 B .. 4 KiB
                    a = tag == null ? pool.alignedAlloc(align, size) : pool.alignedAlloc(align, size, tag);
                } else {
                    a = tag == null ? pool.malloc(size) : pool.malloc(size, tag);
                }
                assertTrue(a != 0, "allocation of " + size);
                long usable = pool.usableSize(a);
                o.malloc(usable, slotOf(usable), t);
                live.add(new long[] {a, usable, t});
            } else {
                long[] b = live.remove(r.nextInt(live.size()));
                if (r.nextInt(6) == 0) {
                    // realloc: in place (same class, or a page run resized) or moving, under a tag of the call
                    int t = r.nextInt(tags.length);
                    long size = SIZES[r.nextInt(nsizes)] + r.nextInt(5000);
                    long a = pool.realloc(b[0], size, tags[t]);
                    assertTrue(a != 0, "realloc to " + size);
                    long usable = pool.usableSize(a);
                    boolean unchanged = a == b[0] && usable == b[1];
                    if (!unchanged) { // counted as a free of the old and a malloc of the new, with the call's tag
                        o.free(b[1], slotOf(b[1]), (int) b[2]);
                        o.malloc(usable, slotOf(usable), t);
                        live.add(new long[] {a, usable, t});
                    } else {
                        live.add(b);
                    }
                    continue;
                }
                pool.free(b[0]);
                o.free(b[1], slotOf(b[1]), (int) b[2]);
            }
        }
        left.addAll(live);
    }

    private static void assertMatches(Oracle o, AllocationTag[] tags, PoolStats s, String when) {
        Map<Integer, PoolStats.SizeClassStats> byIndex = new HashMap<>();
        for (PoolStats.SizeClassStats c : s.sizeClasses()) {
            byIndex.put(c.index(), c);
        }
        long mallocs = 0;
        long frees = 0;
        for (Map.Entry<Integer, long[]> e : o.classes.entrySet()) {
            PoolStats.SizeClassStats c = byIndex.get(e.getKey());
            assertTrue(c != null, when + ": class slot " + e.getKey() + " is listed");
            assertEquals(e.getValue()[0], c.mallocs(), when + ": mallocs of class slot " + e.getKey());
            assertEquals(e.getValue()[1], c.frees(), when + ": frees of class slot " + e.getKey());
            mallocs += e.getValue()[0];
            frees += e.getValue()[1];
        }
        assertEquals(mallocs, s.mallocs(), when + ": mallocs");
        assertEquals(frees, s.frees(), when + ": frees");
        for (int t = 0; t < tags.length; t++) {
            PoolStats.TagStats ts = s.tag(tags[t].name());
            assertEquals(o.tags[t][0], ts == null ? 0 : ts.inUse(), when + ": in use of " + tags[t].name());
            assertEquals(o.tags[t][1], ts == null ? 0 : ts.requests(), when + ": requests of " + tags[t].name());
            assertEquals(o.tags[t][2], ts == null ? 0 : ts.bytes(), when + ": bytes of " + tags[t].name());
            assertTrue(ts == null || ts.peakInUse() >= ts.inUse(), when + ": peak of " + tags[t].name());
        }
    }

    private static AllocationTag[] tags(String prefix, int n) {
        AllocationTag[] t = new AllocationTag[n];
        for (int i = 0; i < n; i++) {
            t[i] = AllocationTag.define(prefix + i);
        }
        return t;
    }

    /** What one owner thread of {@link #mixOnThreads} runs: its index, its own oracle, and the blocks it leaves live. */
    private interface OwnerMix {
        void run(int k, Oracle oracle, List<long[]> left) throws Exception;
    }

    /**
     * Runs {@code body} on {@code n} threads that {@code builder} starts, each with an oracle of its own and a list of
     * the blocks it leaves live (added to {@code lefts}); joins them, fails if one threw, and returns the oracles summed.
     */
    private static Oracle mixOnThreads(int n, int tagCount, Thread.Builder builder, List<List<long[]>> lefts, OwnerMix body)
            throws InterruptedException {
        Oracle[] oracles = new Oracle[n];
        Thread[] threads = new Thread[n];
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int i = 0; i < n; i++) {
            Oracle o = oracles[i] = new Oracle(tagCount);
            List<long[]> left = new ArrayList<>();
            lefts.add(left);
            int k = i;
            threads[i] = builder.start(() -> {
                try {
                    body.run(k, o, left);
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
        }
        for (Thread t : threads) {
            t.join();
        }
        assertNull(failure.get());
        Oracle all = new Oracle(tagCount);
        for (Oracle o : oracles) {
            o.addTo(all);
        }
        return all;
    }

    /** Frees on this thread the blocks the owners left ({@code {address, usable, tag}}), each counted in {@code all}. */
    private static void freeLeft(MemoryPool pool, List<List<long[]>> lefts, Oracle all) {
        for (List<long[]> left : lefts) {
            for (long[] b : left) {
                pool.free(b[0]);
                all.free(b[1], slotOf(b[1]), (int) b[2]);
            }
        }
    }

    @Test
    void countsOfManyThreadsWithSeveralTagsEachMatchAnOracleAfterSomeDieAndAreDrained() throws Exception {
        AllocationTag[] tags = tags("oracle.threads.", 5);
        try (VolatilePool pool = TestPools.create(512L << 20)) {
            List<List<long[]>> lefts = new ArrayList<>();
            Oracle all = mixOnThreads(6, tags.length, Thread.ofPlatform(), lefts,
                    (k, o, left) -> mix(pool, tags, 100 + k, 6000, o, left, k % 2 == 0));
            assertMatches(all, tags, pool.stats(), "dead, not drained");
            pool.heap.caches.drainDeadThreads();
            assertMatches(all, tags, pool.stats(), "drained");
            freeLeft(pool, lefts, all); // frees counted on this thread, under the blocks' tags
            PoolStats s = pool.stats();
            assertMatches(all, tags, s, "all freed");
            assertEquals(0, s.allocated());
        }
    }

    @Test
    void countsWithRedzonesAndJunkFillMatchAnOracle() {
        AllocationTag[] tags = tags("oracle.debug.", 3);
        try (VolatilePool pool = TestPools.create(256L << 20, PoolOptions.DEFAULT.withRedzones(true).withJunkFill(true))) {
            Oracle o = new Oracle(tags.length);
            List<long[]> left = new ArrayList<>();
            mix(pool, tags, 5, 5000, o, left, true);
            // redzones make the blocks larger than usableSize says: compare tags and totals, not classes
            PoolStats s = pool.stats();
            long mallocs = 0;
            long frees = 0;
            for (long[] v : o.classes.values()) {
                mallocs += v[0];
                frees += v[1];
            }
            assertEquals(mallocs, s.mallocs());
            assertEquals(frees, s.frees());
            for (int t = 0; t < tags.length; t++) {
                PoolStats.TagStats ts = s.tag(tags[t].name());
                assertEquals(o.tags[t][1], ts == null ? 0 : ts.requests(), "requests of " + tags[t].name());
            }
            for (long[] b : left) {
                pool.free(b[0]);
            }
            s = pool.stats();
            assertEquals(0, s.allocated());
            for (AllocationTag tag : tags) {
                PoolStats.TagStats ts = s.tag(tag.name());
                assertEquals(0, ts == null ? 0 : ts.inUse(), "in use of " + tag.name());
            }
        }
    }

    @Test
    void typedMallocsAndFreesOfSeveralTagsMatchAnOracleAcrossHomeMoves() {
        AllocationTag[] tags = tags("oracle.typed.", 4);
        try (VolatilePool pool = TestPools.create(256L << 20)) {
            Oracle o = new Oracle(tags.length);
            List<long[]> live = new ArrayList<>();
            Random r = new Random(11);
            for (int i = 0; i < 30_000; i++) {
                if (live.isEmpty() || live.size() < 200 && r.nextInt(100) < 55) {
                    int t = r.nextInt(5) == 0 ? r.nextInt(tags.length) : (i / 300) % tags.length;
                    long size = SIZES[r.nextInt(100) < 95 ? r.nextInt(6) : 6 + r.nextInt(2)];
                    long a = pool.mallocTyped(size, tags[t]);
                    assertTrue(a != 0);
                    long usable = pool.usableSize(a);
                    o.malloc(usable, slotOf(usable), t);
                    live.add(new long[] {a, usable, t});
                } else {
                    long[] b = live.remove(r.nextInt(live.size()));
                    pool.free(b[0], tags[(int) b[2]]);
                    o.free(b[1], slotOf(b[1]), (int) b[2]);
                }
                if (i % 4999 == 0) {
                    assertMatches(o, tags, pool.stats(), "at " + i);
                }
            }
            for (long[] b : live) {
                pool.free(b[0], tags[(int) b[2]]);
                o.free(b[1], slotOf(b[1]), (int) b[2]);
            }
            assertMatches(o, tags, pool.stats(), "all freed");
        }
    }

    @Test
    void virtualThreadsTaggedCountsMatchAnOracle() throws Exception {
        AllocationTag[] tags = tags("oracle.virtual.", 3);
        try (VolatilePool pool = TestPools.create(256L << 20)) {
            List<List<long[]>> lefts = new ArrayList<>();
            Oracle all = mixOnThreads(50, tags.length, Thread.ofVirtual(), lefts,
                    (k, o, left) -> mix(pool, tags, 1000 + k, 400, o, left, false, SIZES.length - 1)); // no huge: 50 threads
            assertMatches(all, tags, pool.stats(), "virtual threads done");
            freeLeft(pool, lefts, all);
            assertMatches(all, tags, pool.stats(), "all freed");
            assertEquals(0, pool.stats().allocated());
        }
    }

    // ------------------------------------------------------------ snapshots during a counter move

    private static Object field(Object o, String name) throws ReflectiveOperationException {
        Field f = ThreadCache.class.getDeclaredField(name);
        f.setAccessible(true);
        return f.get(o);
    }

    private static void setSeq(ThreadCache tc, int v) throws ReflectiveOperationException {
        Field f = ThreadCache.class.getDeclaredField("seq");
        f.setAccessible(true);
        f.setInt(tc, v);
    }

    private static int seq(ThreadCache tc) throws ReflectiveOperationException {
        Field f = ThreadCache.class.getDeclaredField("seq");
        f.setAccessible(true);
        return f.getInt(tc);
    }

    private static ThreadCache cacheOf(VolatilePool pool, Thread t) {
        for (ThreadCache tc : pool.heap.caches.snapshot()) {
            if (tc.owner == t) {
                return tc;
            }
        }
        throw new AssertionError("no cache for " + t);
    }

    /**
     * A writer preempted inside {@link ThreadCache#setHeight} (emulated here: half of a fold written, the sequence
     * odd, then finished 300 ms later, far longer than a reader spins): the snapshot taken meanwhile must wait for the
     * fold, not count the stack's pops and pushes twice.
     */
    @Test
    void aSnapshotTakenWhileAStackFoldIsStalledHalfwayDoesNotCountItsOperationsTwice() throws Exception {
        try (VolatilePool pool = TestPools.create(64L << 20)) {
            CountDownLatch ready = new CountDownLatch(1);
            CountDownLatch end = new CountDownLatch(1);
            int pairs = 10_000;
            Thread owner = new Thread(() -> {
                long a = pool.malloc(64); // fills the stack once
                pool.free(a);
                for (int i = 0; i < pairs; i++) {
                    pool.free(pool.malloc(64)); // pops and pushes: counted in the stack's word
                }
                ready.countDown();
                try {
                    end.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            owner.start();
            ready.await();
            int cls = SizeClasses.index(64);
            assertEquals(pairs + 1, classOf(pool.stats(), 64).mallocs());
            ThreadCache tc = cacheOf(pool, owner);
            // the owner is parked: this thread plays a writer stopped between two stores of setHeight(cls, height)
            long w = tc.stack[cls];
            long[] stackOps = (long[]) field(tc, "stackOps");
            int s = seq(tc);
            setSeq(tc, s + 1);
            stackOps[cls] += w >>> ThreadCache.HEIGHT_BITS;
            AtomicReference<PoolStats> seen = new AtomicReference<>();
            Thread reader = new Thread(() -> seen.set(pool.stats()));
            reader.start();
            Thread.sleep(300);
            tc.stack[cls] = ThreadCache.height(w);
            setSeq(tc, s + 2);
            reader.join();
            end.countDown();
            owner.join();
            PoolStats.SizeClassStats c = classOf(seen.get(), 64);
            assertEquals(pairs + 1, c.mallocs(), "mallocs seen during the fold");
            assertEquals(pairs + 1, c.frees(), "frees seen during the fold");
        }
    }

    /** As above for a home move ({@link ThreadCache#rehome}) stalled after the old home's counters went to its slot. */
    @Test
    void aSnapshotTakenWhileAHomeMoveIsStalledHalfwayDoesNotCountTheHomeTagTwice() throws Exception {
        AllocationTag tag = AllocationTag.define("oracle.stalled.home");
        try (VolatilePool pool = TestPools.create(64L << 20)) {
            CountDownLatch ready = new CountDownLatch(1);
            CountDownLatch end = new CountDownLatch(1);
            int n = 1000;
            long[] blocks = new long[n];
            Thread owner = new Thread(() -> {
                for (int i = 0; i < n; i++) {
                    blocks[i] = pool.malloc(64, tag); // its first tag: home
                }
                ready.countDown();
                try {
                    end.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            owner.start();
            ready.await();
            ThreadCache tc = cacheOf(pool, owner);
            assertEquals(tag.id(), tc.homeTag);
            int s = seq(tc);
            setSeq(tc, s + 1);
            // rehome(0) stopped after writing the old home's counters back into its slot
            ThreadCache.TagSlot slot = tc.tagSlot(tag.id());
            slot.pending = tc.homePending;
            slot.pendingMax = tc.homePendingMax;
            slot.requests += tc.homeRequests;
            slot.bytes += tc.homeBytes;
            AtomicReference<PoolStats> seen = new AtomicReference<>();
            Thread reader = new Thread(() -> seen.set(pool.stats()));
            reader.start();
            Thread.sleep(300);
            tc.homePending = 0;
            tc.homePendingMax = 0;
            tc.homeRequests = 0;
            tc.homeBytes = 0;
            tc.homeMisses = 0;
            tc.homeTag = 0;
            setSeq(tc, s + 2);
            reader.join();
            PoolStats.TagStats ts = seen.get().tag(tag.name());
            assertEquals(n, ts.requests(), "requests seen during the home move");
            assertEquals(n * 64L, ts.inUse(), "in use seen during the home move");
            end.countDown();
            owner.join();
            for (long b : blocks) {
                pool.free(b);
            }
            assertEquals(0, pool.stats().tag(tag.name()).inUse());
        }
    }

    /**
     * One owner moves a tag's bytes across the publication threshold both ways (1.5 MiB up, all down); snapshots read
     * meanwhile must stay between 0 and the most it ever held.
     */
    @Test
    void aTagsInUseSeenWhileItsOwnerPublishesStaysBetweenZeroAndItsPeak() throws Exception {
        AllocationTag tag = AllocationTag.define("oracle.publishing");
        try (VolatilePool pool = TestPools.create(128L << 20)) {
            AtomicBoolean stop = new AtomicBoolean();
            long block = 128 * 1024;
            int n = 12;
            Thread owner = new Thread(() -> {
                long[] b = new long[n];
                while (!stop.get()) {
                    for (int i = 0; i < n; i++) {
                        b[i] = pool.malloc(block, tag);
                    }
                    for (int i = 0; i < n; i++) {
                        pool.free(b[i]);
                    }
                }
            });
            owner.start();
            String wrong = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            int snapshots = 0;
            while (System.nanoTime() < deadline && wrong == null) {
                PoolStats.TagStats ts = pool.stats().tag(tag.name());
                snapshots++;
                if (ts != null && (ts.inUse() < 0 || ts.inUse() > n * block)) {
                    wrong = "in use " + ts.inUse() + " after " + snapshots + " snapshots";
                }
            }
            stop.set(true);
            owner.join();
            assertNull(wrong);
            assertEquals(0, pool.stats().tag(tag.name()).inUse());
        }
    }

    /**
     * Owners, each with classes and two tags of its own (homes moving every few dozen blocks, stacks filling and
     * flushing), half of them ending and drained meanwhile; a reader checks every snapshot: per class, mallocs and
     * frees never go back and frees never exceed mallocs; per tag, in use stays between 0 and its peak, requests,
     * bytes and peak never go back. After all end, the counts equal the oracle's.
     */
    @Test
    void snapshotsWhileOwnersRehomeFillFlushAndDieNeverGoBackNorGoBelowZero() throws Exception {
        int n = 4;
        long[][] sizes = {{16, 20_000}, {32, 24_576}, {48, 28_672}, {80, 32_768}};
        java.util.Set<Integer> distinct = new java.util.HashSet<>();
        for (long[] ss : sizes) {
            for (long z : ss) {
                assertTrue(distinct.add(SizeClasses.index(z)), "class of " + z + " is one thread's only");
            }
        }
        AllocationTag[] tags = tags("oracle.readers.", 2 * n);
        try (VolatilePool pool = TestPools.create(256L << 20)) {
            AtomicBoolean stop = new AtomicBoolean();
            Oracle[] oracles = new Oracle[n];
            Thread[] owners = new Thread[n];
            AtomicReference<Throwable> failure = new AtomicReference<>();
            for (int i = 0; i < n; i++) {
                oracles[i] = new Oracle(tags.length);
                int k = i;
                owners[i] = new Thread(() -> {
                    try {
                        Random r = new Random(k);
                        long[] blocks = new long[150]; // more than a stack holds: fills and flushes
                        int[] tagOf = new int[blocks.length];
                        long[] usable = new long[blocks.length];
                        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(k % 2 == 0 ? 600 : 2500);
                        int round = 0;
                        while (!stop.get() && System.nanoTime() < end) {
                            for (int j = 0; j < blocks.length; j++) {
                                int t = 2 * k + ((j / 70 + round) % 2); // 70 of one tag, then the other: homes move
                                long size = sizes[k][r.nextInt(10) == 0 ? 1 : 0];
                                blocks[j] = pool.malloc(size, tags[t]);
                                usable[j] = SizeClasses.usable(size);
                                tagOf[j] = t;
                                oracles[k].malloc(usable[j], slotOf(usable[j]), t);
                            }
                            for (int j = blocks.length - 1; j >= 0; j--) {
                                pool.free(blocks[j]);
                                oracles[k].free(usable[j], slotOf(usable[j]), tagOf[j]);
                            }
                            round++;
                        }
                    } catch (Throwable e) {
                        failure.set(e);
                    }
                });
                owners[i].start();
            }
            Map<Integer, long[]> lastClass = new HashMap<>();
            long[][] lastTag = new long[tags.length][3]; // requests, bytes, peak
            String wrong = null;
            int snapshots = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (System.nanoTime() < deadline && wrong == null) {
                if (snapshots % 20 == 0) {
                    pool.heap.caches.drainDeadThreads(); // as the maintenance thread does
                }
                PoolStats s = pool.stats();
                snapshots++;
                for (PoolStats.SizeClassStats c : s.sizeClasses()) {
                    long[] last = lastClass.computeIfAbsent(c.index(), x -> new long[2]);
                    if (c.frees() > c.mallocs() || c.mallocs() < last[0] || c.frees() < last[1]) {
                        wrong = "class " + c.index() + ": mallocs " + c.mallocs() + " frees " + c.frees()
                                + " after " + last[0] + ", " + last[1];
                    }
                    last[0] = c.mallocs();
                    last[1] = c.frees();
                }
                for (int t = 0; t < tags.length && wrong == null; t++) {
                    PoolStats.TagStats ts = s.tag(tags[t].name());
                    if (ts == null) {
                        continue;
                    }
                    if (ts.inUse() < 0 || ts.inUse() > ts.peakInUse() || ts.requests() < lastTag[t][0]
                            || ts.bytes() < lastTag[t][1] || ts.peakInUse() < lastTag[t][2]) {
                        wrong = tags[t].name() + ": " + ts + " after requests " + lastTag[t][0] + " bytes "
                                + lastTag[t][1] + " peak " + lastTag[t][2];
                    }
                    lastTag[t][0] = ts.requests();
                    lastTag[t][1] = ts.bytes();
                    lastTag[t][2] = ts.peakInUse();
                }
                if (s.allocated() < 0 || s.frees() > s.mallocs()) {
                    wrong = "allocated " + s.allocated() + " mallocs " + s.mallocs() + " frees " + s.frees();
                }
            }
            stop.set(true);
            for (Thread t : owners) {
                t.join();
            }
            assertNull(failure.get());
            assertNull(wrong, "after " + snapshots + " snapshots");
            Oracle all = new Oracle(tags.length);
            for (Oracle o : oracles) {
                o.addTo(all);
            }
            assertMatches(all, tags, pool.stats(), "owners ended");
            pool.heap.caches.drainDeadThreads();
            PoolStats s = pool.stats();
            assertMatches(all, tags, s, "owners drained");
            assertEquals(0, s.allocated());
        }
    }

    /** A thread's peak of a tag below the publication threshold, with nothing pending at its end, outlives its drain. */
    @Test
    void aDeadThreadsUnpublishedPeakOfATagSurvivesItsDrain() throws Exception {
        AllocationTag home = AllocationTag.define("oracle.deadpeak.home");
        AllocationTag away = AllocationTag.define("oracle.deadpeak.away");
        try (VolatilePool pool = TestPools.create(64L << 20)) {
            Thread t = new Thread(() -> {
                long a = pool.malloc(100_000, home); // its home tag
                long b = pool.malloc(50_000, away); // in its slot
                pool.free(a);
                pool.free(b);
            });
            t.start();
            t.join();
            long homePeak = SizeClasses.usable(100_000);
            long awayPeak = SizeClasses.usable(50_000);
            assertEquals(homePeak, pool.stats().tag(home.name()).peakInUse());
            pool.heap.caches.drainDeadThreads();
            PoolStats s = pool.stats();
            assertEquals(homePeak, s.tag(home.name()).peakInUse(), "peak of the home tag after the drain");
            assertEquals(awayPeak, s.tag(away.name()).peakInUse(), "peak of the other tag after the drain");
            assertEquals(0, s.tag(home.name()).inUse());
            assertEquals(homePeak + awayPeak, s.peakAllocated());
        }
    }

    /** 2^25 pops and pushes with no fill or flush: more than 24 bits of a stack word's count, derived exactly. */
    @Test
    void aStackWordsCountBeyond24BitsWithoutASlowPathIsDerivedExactly() {
        AllocationTag tag = AllocationTag.define("oracle.longrun");
        try (VolatilePool pool = TestPools.create(32L << 20)) {
            int pairs = 1 << 24;
            long first = pool.malloc(64, tag); // one fill
            for (int i = 0; i < pairs; i++) {
                pool.free(pool.malloc(64, tag));
            }
            PoolStats s = pool.stats();
            PoolStats.SizeClassStats c = classOf(s, 64);
            assertEquals(pairs + 1L, c.mallocs());
            assertEquals(pairs, c.frees());
            assertEquals(1, c.live());
            assertEquals(pairs + 1L, s.tag(tag.name()).requests());
            assertEquals(64, s.tag(tag.name()).inUse());
            pool.free(first);
            assertEquals(pairs + 1L, classOf(pool.stats(), 64).frees());
        }
    }

    /**
     * Blocks one thread allocates and another frees (a queue between them): a snapshot must not count a free whose
     * malloc it missed, whichever of the two threads' counters it reads first.
     */
    @Test
    void blocksHandedToAnotherThreadAreNeverSeenFreedMoreOftenThanAllocated() throws Exception {
        AllocationTag tag = AllocationTag.define("oracle.queue");
        try (VolatilePool pool = TestPools.create(64L << 20)) {
            java.util.concurrent.ArrayBlockingQueue<Long> queue = new java.util.concurrent.ArrayBlockingQueue<>(64);
            AtomicBoolean stop = new AtomicBoolean();
            Thread producer = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        queue.put(pool.malloc(96, tag));
                    }
                    queue.put(0L);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Thread consumer = new Thread(() -> {
                try {
                    for (long a; (a = queue.take()) != 0; ) {
                        pool.free(a);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            producer.start();
            consumer.start();
            String wrong = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            int snapshots = 0;
            while (System.nanoTime() < deadline && wrong == null) {
                PoolStats.SizeClassStats c = classOf(pool.stats(), 96);
                snapshots++;
                if (c != null && c.frees() > c.mallocs()) {
                    wrong = "mallocs " + c.mallocs() + " frees " + c.frees() + " at snapshot " + snapshots;
                }
                PoolStats.TagStats ts = pool.stats().tag(tag.name());
                if (ts != null && ts.inUse() < 0) {
                    wrong = "in use " + ts.inUse() + " at snapshot " + snapshots;
                }
            }
            stop.set(true);
            producer.join();
            consumer.join();
            assertNull(wrong);
            PoolStats.SizeClassStats c = classOf(pool.stats(), 96);
            assertEquals(c.mallocs(), c.frees());
            assertEquals(0, pool.stats().tag(tag.name()).inUse());
        }
    }
}
