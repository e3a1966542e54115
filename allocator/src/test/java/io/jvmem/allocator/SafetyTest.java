package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Misuse is detected, reported with a typed exception, and leaves the pool intact. */
@org.junit.jupiter.api.Tag("unit")
class SafetyTest {
    private final VolatilePool pool = TestPools.create(32L << 20);

    @AfterEach
    void delete() {
        pool.delete();
    }

    private void assertIntact() {
        PoolCheck c = pool.check();
        assertTrue(c.consistent(), c.problems().toString());
        long a = pool.malloc(64);
        assertNotEquals(0, a);
        pool.free(a);
    }

    @Test
    @Timeout(60)
    void doubleFreeOfASmallBlockIsDetected() {
        long a = pool.malloc(64);
        pool.free(a);
        InvalidFreeException e = assertThrows(InvalidFreeException.class, () -> pool.free(a));
        assertEquals(PoolErrorReason.INVALID_FREE, e.reason());
        assertTrue(e.getMessage().contains("double free"), e.getMessage()); // which mistake it was: the message tells
        assertEquals(a, e.address());
        assertIntact();
    }

    @Test
    @Timeout(60)
    void doubleFreeOfABlockAlreadyBackInItsSlabIsDetected() {
        long a = pool.malloc(64);
        pool.free(a);
        pool.flushThreadCache();
        InvalidFreeException e = assertThrows(InvalidFreeException.class, () -> pool.free(a));
        assertEquals(PoolErrorReason.INVALID_FREE, e.reason());
        assertTrue(e.getMessage().contains("double free"), e.getMessage()); // which mistake it was: the message tells
        assertIntact();
    }

    @Test
    void aLiveBlockWhoseDataLooksLikeAnotherBlocksKeyFreesNormally() {
        long a = pool.malloc(64);
        long b = pool.malloc(64);
        pool.free(a); // a now holds its free key
        TestPools.ALL.asSlice(b, 8).copyFrom(TestPools.ALL.asSlice(a, 8));
        pool.free(b); // the key is bound to its address: b's copy of a's key is just data
        assertIntact();
    }

    @Test
    void doubleFreeOfALargeAndAHugeBlockIsDetected() {
        for (long size : new long[] {100_000, 8L << 20}) {
            long a = pool.malloc(size);
            pool.free(a);
            assertThrows(InvalidFreeException.class, () -> pool.free(a));
        }
        assertIntact();
    }

    @Test
    void doubleFreeFromAnotherThreadIsDetected() {
        long a = pool.malloc(256);
        pool.free(a);
        CompletableFuture<Throwable> other = CompletableFuture.supplyAsync(() -> {
            try {
                pool.free(a);
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
        assertTrue(other.join() instanceof InvalidFreeException);
        assertIntact();
    }

    @Test
    void freeOfAnAddressNeverAllocatedIsDetected() {
        long a = pool.malloc(4096);
        long never = a + 8192 * 4;
        assertThrows(InvalidFreeException.class, () -> pool.free(never));
        pool.free(a);
        assertIntact();
    }

    @Test
    @Timeout(60)
    void freeOfAnAlignedPointerIntoASmallBlockNamesTheBlock() {
        long a = pool.malloc(1000);
        InvalidFreeException e = assertThrows(InvalidFreeException.class, () -> pool.free(a + 16));
        assertTrue(e.getMessage().contains("address is inside the block at 0x" + Long.toHexString(a) + " ("), e.getMessage());
        assertEquals(a + 16, e.address());
        pool.free(a);
        InvalidFreeException again = assertThrows(InvalidFreeException.class, () -> pool.free(a + 16));
        assertTrue(again.getMessage().contains("double free, or no block"), "its block freed: " + again.getMessage());
        assertIntact();
    }

    @Test
    void freeOfAPointerIntoABlockIsDetected() {
        long a = pool.malloc(1000);
        assertThrows(InvalidFreeException.class, () -> pool.free(a + 16));
        assertThrows(InvalidFreeException.class, () -> pool.free(a + 3));
        pool.free(a);
        long big = pool.malloc(200_000);
        assertThrows(InvalidFreeException.class, () -> pool.free(big + 4096));
        pool.free(big);
        assertIntact();
    }

    @Test
    @Timeout(60)
    void freeOfAnAddressOutsideThePoolIsDetected() {
        try (Arena arena = Arena.ofConfined()) {
            long foreign = arena.allocate(64).address();
            InvalidFreeException e = assertThrows(InvalidFreeException.class, () -> pool.free(foreign));
            assertEquals(PoolErrorReason.INVALID_FREE, e.reason());
            assertTrue(e.getMessage().contains("outside the pool"), e.getMessage());
        }
        assertFalseContains();
        assertIntact();
    }

    private void assertFalseContains() {
        assertTrue(!pool.contains(16));
    }

    @Test
    @Timeout(60)
    void freeOfAPoolMetadataAddressIsDetected() {
        long a = pool.malloc(16);
        long header = a - pool.allocator().layout.heapOffset - (a - pool.allocator().heapAddr);
        assertTrue(pool.contains(header));
        InvalidFreeException e = assertThrows(InvalidFreeException.class, () -> pool.free(header + 64));
        assertEquals(PoolErrorReason.INVALID_FREE, e.reason());
        assertTrue(e.getMessage().contains("metadata"), e.getMessage());
        pool.free(a);
        assertIntact();
    }

    @Test
    void usableSizeOfAFreedBlockIsAnError() {
        long a = pool.malloc(100);
        pool.free(a);
        assertThrows(InvalidFreeException.class, () -> pool.usableSize(a));
        assertThrows(InvalidFreeException.class, () -> pool.realloc(a, 200));
    }

    @Test
    void aDeletedPoolRefusesEveryOperation() {
        VolatilePool p = TestPools.create(16L << 20);
        long a = p.malloc(100);
        p.delete();
        assertThrows(PoolClosedException.class, () -> p.malloc(10));
        assertThrows(PoolClosedException.class, () -> p.free(a));
        assertThrows(PoolClosedException.class, () -> p.calloc(1, 1));
        assertThrows(PoolClosedException.class, () -> p.realloc(a, 10));
        assertThrows(PoolClosedException.class, () -> p.usableSize(a));
        assertThrows(PoolClosedException.class, p::stats);
        assertEquals(PoolCheck.Status.NOT_CHECKED, p.check().status());
        p.delete(); // second delete is a no-op
    }

    @Test
    void memoryOfADeletedPoolReadsAsZeroInsteadOfCrashing() {
        VolatilePool p = TestPools.create(16L << 20);
        long a = p.malloc(100);
        TestPools.fill(a, 100, (byte) 9);
        p.delete();
        // a straggler reading through an old address must not bring the JVM down
        assertTrue(TestPools.all(a, 100, (byte) 0));
    }
}
