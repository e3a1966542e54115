package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * 2 × cores threads, over a million mixed malloc / realloc / free operations, a third or more of the frees made by a
 * thread other than the allocating one; every block carries a pattern derived from its identity, verified before it
 * is freed or resized. Afterwards: no corruption, check() consistent, counters balanced.
 */
@org.junit.jupiter.api.Tag("stress")
class StressTest {
    private static final int THREADS = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
    private static final int OPS_PER_THREAD = 1_050_000 / THREADS + 1;
    private static final int LIVE_TARGET = 1500;
    private static final MemorySegment ALL = Allocator.all();

    private record Block(long address, long size, long id) {
    }

    private static long wordFor(long id) {
        return id * 0x9E3779B97F4A7C15L;
    }

    /** Byte i of the block: the same as byte (i mod 8) of the little-endian pattern word, however it was written. */
    private static byte byteAt(long w, long i) {
        return (byte) (w >>> (8 * (i & 7)));
    }

    private static void paint(Block b) {
        long w = wordFor(b.id);
        long n = b.size & ~7L;
        for (long i = 0; i < n; i += 8) {
            ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, b.address + i, w);
        }
        for (long i = n; i < b.size; i++) {
            ALL.set(ValueLayout.JAVA_BYTE, b.address + i, byteAt(w, i));
        }
    }

    /** Checks the pattern over the first {@code upTo} bytes; returns a description of the damage or null. */
    private static String verify(Block b, long upTo) {
        long w = wordFor(b.id);
        long n = upTo & ~7L;
        for (long i = 0; i < n; i += 8) {
            if (ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, b.address + i) != w) {
                return "block " + b.id + " damaged at +" + i;
            }
        }
        for (long i = n; i < upTo; i++) {
            if (ALL.get(ValueLayout.JAVA_BYTE, b.address + i) != byteAt(w, i)) {
                return "block " + b.id + " damaged at +" + i;
            }
        }
        return null;
    }

    private static long size(SplittableRandom r) {
        int k = r.nextInt(1000);
        if (k < 700) {
            return r.nextInt(1, 257);
        } else if (k < 950) {
            return r.nextInt(256, 4097);
        } else if (k < 995) {
            return r.nextInt(4096, 65537);
        }
        return r.nextInt(65536, (1 << 20) + 1);
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES)
    void concurrentMixedOperationsKeepEveryBlockIntact() throws Exception {
        AllocationTag tag = AllocationTag.define("stress");
        try (VolatilePool pool = TestPools.create(512L << 20)) {
            List<ConcurrentLinkedQueue<Block>> inboxes = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                inboxes.add(new ConcurrentLinkedQueue<>());
            }
            AtomicLong ids = new AtomicLong(1);
            AtomicLong ops = new AtomicLong();
            AtomicLong frees = new AtomicLong();
            AtomicLong foreignFrees = new AtomicLong();
            AtomicLong failures = new AtomicLong();
            ConcurrentLinkedQueue<String> damage = new ConcurrentLinkedQueue<>();
            CyclicBarrier done = new CyclicBarrier(THREADS);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int self = t;
                threads.add(new Thread(() -> {
                    SplittableRandom r = new SplittableRandom(self * 7919L);
                    List<Block> live = new ArrayList<>();
                    ConcurrentLinkedQueue<Block> inbox = inboxes.get(self);
                    try {
                        for (int i = 0; i < OPS_PER_THREAD; i++) {
                            Block in;
                            while ((in = inbox.poll()) != null) {
                                check(in, in.size, damage);
                                pool.free(in.address);
                                frees.incrementAndGet();
                                foreignFrees.incrementAndGet();
                                ops.incrementAndGet();
                            }
                            int k = r.nextInt(100);
                            if (live.size() < LIVE_TARGET / 2 || (k < 40 && live.size() < LIVE_TARGET)) {
                                long size = size(r);
                                long a = pool.malloc(size, tag);
                                if (a == 0) {
                                    failures.incrementAndGet();
                                    continue;
                                }
                                Block b = new Block(a, size, ids.getAndIncrement());
                                paint(b);
                                live.add(b);
                            } else if (k < 60) {
                                int j = r.nextInt(live.size());
                                Block b = live.get(j);
                                check(b, b.size, damage);
                                long size = size(r);
                                long a = pool.realloc(b.address, size, tag);
                                if (a == 0) {
                                    failures.incrementAndGet();
                                    continue;
                                }
                                Block moved = new Block(a, size, b.id);
                                check(moved, Math.min(b.size, size), damage);
                                Block fresh = new Block(a, size, ids.getAndIncrement());
                                paint(fresh);
                                live.set(j, fresh);
                            } else {
                                Block b = live.remove(r.nextInt(live.size()));
                                if (r.nextInt(100) < 45) {
                                    inboxes.get((self + 1 + r.nextInt(THREADS - 1)) % THREADS).add(b);
                                } else {
                                    check(b, b.size, damage);
                                    pool.free(b.address);
                                    frees.incrementAndGet();
                                }
                            }
                            ops.incrementAndGet();
                        }
                        done.await(2, java.util.concurrent.TimeUnit.MINUTES);
                        Block in;
                        while ((in = inbox.poll()) != null) {
                            check(in, in.size, damage);
                            pool.free(in.address);
                            frees.incrementAndGet();
                            foreignFrees.incrementAndGet();
                        }
                        for (Block b : live) {
                            check(b, b.size, damage);
                            pool.free(b.address);
                            frees.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        damage.add(self + ": " + e);
                        done.reset(); // a worker that fails before the barrier must not leave the others waiting there
                    }
                }));
            }
            threads.forEach(Thread::start);
            for (Thread t : threads) {
                t.join();
            }
            assertEquals(List.of(), List.copyOf(damage));
            assertTrue(ops.get() >= 1_000_000, "ops " + ops.get());
            assertTrue(foreignFrees.get() * 10 >= frees.get() * 3,
                    "cross-thread frees " + foreignFrees.get() + " of " + frees.get());
            assertEquals(0, failures.get(), "the pool never ran out");
            PoolCheck c = pool.check();
            assertTrue(c.consistent(), c.problems().toString());
            PoolStats s = pool.stats();
            assertEquals(s.mallocs(), s.frees(), "every block handed out was freed exactly once");
            assertEquals(0, s.allocated());
            assertEquals(0, s.tag("stress").inUse());
            for (PoolStats.SizeClassStats cls : s.sizeClasses()) {
                assertEquals(0, cls.live(), "class " + cls.size());
            }
        }
    }

    private static void check(Block b, long upTo, ConcurrentLinkedQueue<String> damage) {
        String d = verify(b, upTo);
        if (d != null) {
            damage.add(d);
        }
    }
}
