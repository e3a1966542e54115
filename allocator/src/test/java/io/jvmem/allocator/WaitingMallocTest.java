package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** M_WAITOK: a malloc that waits for other threads to free, up to a timeout. */
@org.junit.jupiter.api.Tag("unit")
class WaitingMallocTest {
    private static final long BLOCK = 256 << 10; // a page run the thread caches keep

    /** Allocates BLOCK-sized blocks until the pool is full. */
    private static List<Long> fill(MemoryPool pool) {
        return fill(pool, BLOCK);
    }

    private static List<Long> fill(MemoryPool pool, long block) {
        List<Long> held = new ArrayList<>();
        for (long a; (a = pool.malloc(block)) != 0; ) {
            held.add(a);
        }
        assertFalse(held.isEmpty());
        return held;
    }

    private static void awaitWaiter(VolatilePool pool) throws InterruptedException {
        while (!pool.waiters.waiting()) {
            Thread.sleep(5);
        }
        Thread.sleep(50); // let it get from its retry into the wait; a free before the wait is not lost either way
    }

    @Test
    @Timeout(60)
    void aWaitingMallocReturnsOnceAnotherThreadFrees() throws Exception {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL)) {
            List<Long> held = fill(pool);
            CompletableFuture<Long> waiter = CompletableFuture.supplyAsync(
                    () -> pool.malloc(BLOCK, MallocFlags.waitOk(Duration.ofSeconds(40))));
            awaitWaiter(pool);
            assertFalse(waiter.isDone(), "the malloc did not wait");
            pool.free(held.remove(held.size() - 1)); // into this thread's cache: the wake-up must hand it over
            long a = waiter.get(30, TimeUnit.SECONDS);
            assertNotEquals(0, a);
            assertFalse(pool.waiters.waiting());
        }
    }

    @Test
    @Timeout(60)
    void aFreeOfASmallBlockIntoTheFreeingThreadsCacheReachesTheWaiter() throws Exception {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL)) {
            List<Long> held = fill(pool, 64);
            CompletableFuture<Long> waiter = CompletableFuture.supplyAsync(
                    () -> pool.malloc(64, MallocFlags.waitOk(Duration.ofSeconds(40))));
            awaitWaiter(pool);
            assertFalse(waiter.isDone(), "the malloc did not wait");
            pool.free(held.remove(held.size() - 1));
            assertNotEquals(0, waiter.get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    @Timeout(60)
    void aWaitingMallocTimesOutWithZeroAndTheReason() {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL)) {
            fill(pool);
            long t0 = System.nanoTime();
            assertEquals(0, pool.malloc(BLOCK, MallocFlags.waitOk(Duration.ofMillis(300))));
            assertTrue(System.nanoTime() - t0 >= 300_000_000L, "returned before its timeout");
            assertEquals(PoolErrorReason.OUT_OF_MEMORY, MemoryPool.lastErrorReason());
            assertTrue(MemoryPool.lastError().contains("M_WAITOK"), MemoryPool.lastError());
            assertFalse(pool.waiters.waiting());
        }
    }

    @Test
    @Timeout(60)
    void aRequestLargerThanThePoolDoesNotWait() {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL)) {
            assertEquals(0, pool.malloc(pool.size() * 2, MallocFlags.waitOk(Duration.ofHours(1))));
            assertEquals(PoolErrorReason.TOO_LARGE, MemoryPool.lastErrorReason());
        }
    }

    @Test
    @Timeout(60)
    void anInterruptEndsTheWait() throws Exception {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL)) {
            fill(pool);
            long[] result = {-1};
            boolean[] interrupted = {false};
            Thread t = Thread.ofPlatform().start(() -> {
                result[0] = pool.malloc(BLOCK, MallocFlags.waitOk(Duration.ofHours(1)));
                interrupted[0] = Thread.currentThread().isInterrupted();
            });
            awaitWaiter(pool);
            t.interrupt();
            t.join(30_000);
            assertFalse(t.isAlive());
            assertEquals(0, result[0]);
            assertTrue(interrupted[0]);
        }
    }

    @Test
    @Timeout(60)
    void closingThePoolEndsAWaitWithPoolClosedException() throws Exception {
        VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL);
        fill(pool);
        CompletableFuture<Long> waiter = CompletableFuture.supplyAsync(
                () -> pool.malloc(BLOCK, MallocFlags.waitOk(Duration.ofHours(1))));
        awaitWaiter(pool);
        pool.close();
        java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
                java.util.concurrent.ExecutionException.class, () -> waiter.get(30, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof PoolClosedException, e.getCause().toString());
    }
}
