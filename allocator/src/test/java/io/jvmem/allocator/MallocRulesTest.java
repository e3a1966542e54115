package io.jvmem.allocator;

import static io.jvmem.allocator.TestPools.ALL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The malloc / calloc / realloc / free rules of pmemcto_malloc(3) and malloc(3), one per test. */
@org.junit.jupiter.api.Tag("unit")
class MallocRulesTest {
    private final VolatilePool pool = TestPools.create(64L << 20);

    @AfterEach
    void delete() {
        pool.delete();
    }

    @Test
    void mallocOfZeroReturnsAUniqueFreeablePointer() {
        long a = pool.malloc(0);
        long b = pool.malloc(0);
        assertNotEquals(0, a);
        assertNotEquals(a, b);
        pool.free(a);
        pool.free(b);
    }

    @Test
    void mallocReturnsSixteenByteAlignedBlocksOfAtLeastTheRequest() {
        for (long size : new long[] {1, 15, 16, 17, 100, 4095, 4096, 14337, 70000, 5 << 20}) {
            long a = pool.malloc(size);
            assertEquals(0, a % 16, "size " + size);
            assertTrue(pool.usableSize(a) >= size, "size " + size);
            TestPools.fill(a, size, (byte) 7);
            pool.free(a);
        }
    }

    @Test
    @Timeout(60)
    void mallocOfANegativeSizeFailsWithAReason() {
        assertEquals(0, pool.malloc(-1));
        assertEquals(PoolErrorReason.NEGATIVE_SIZE, MemoryPool.lastErrorReason(), MemoryPool.lastError());
    }

    @Test
    @Timeout(60)
    void mallocBeyondThePoolReturnsZeroWithAReasonAndNoException() {
        assertEquals(0, pool.malloc(1L << 40));
        assertTrue(!MemoryPool.lastError().isEmpty());
        assertEquals(0, pool.malloc(128L << 20));
        assertEquals(PoolErrorReason.TOO_LARGE, MemoryPool.lastErrorReason(), MemoryPool.lastError());
    }

    @Test
    void callocZeroesReusedMemory() {
        for (long size : new long[] {48, 4096, 40000, 6 << 20}) {
            long a = pool.malloc(size);
            TestPools.fill(a, size, (byte) 0xff);
            pool.free(a);
            long b = pool.calloc(1, size);
            assertTrue(TestPools.all(b, size, (byte) 0), "size " + size);
            pool.free(b);
        }
    }

    @Test
    void callocOfZeroElementsReturnsAUniqueFreeablePointer() {
        long a = pool.calloc(0, 10);
        long b = pool.calloc(10, 0);
        assertNotEquals(0, a);
        assertNotEquals(a, b);
        pool.free(a);
        pool.free(b);
    }

    @Test
    @Timeout(60)
    void callocOverflowFailsWithoutException() {
        assertEquals(0, pool.calloc(Long.MAX_VALUE / 2, 3));
        assertEquals(PoolErrorReason.OVERFLOW, MemoryPool.lastErrorReason(), MemoryPool.lastError());
    }

    @Test
    void reallocOfNullIsMalloc() {
        long a = pool.realloc(0, 100);
        assertNotEquals(0, a);
        assertTrue(pool.usableSize(a) >= 100);
        pool.free(a);
    }

    @Test
    void reallocToZeroFreesTheBlock() {
        long a = pool.malloc(100);
        assertEquals(0, pool.realloc(a, 0));
        assertThrows(InvalidFreeException.class, () -> pool.free(a));
    }

    @Test
    void reallocKeepsContentsUpToTheSmallerSize() {
        long a = pool.malloc(10);
        for (int i = 0; i < 10; i++) {
            ALL.set(ValueLayout.JAVA_BYTE, a + i, (byte) i);
        }
        long[] sizes = {20, 3000, 100_000, 6 << 20, 5, 1};
        long cur = a;
        long kept = 10;
        for (long size : sizes) {
            cur = pool.realloc(cur, size);
            kept = Math.min(kept, size);
            for (int i = 0; i < kept; i++) {
                assertEquals((byte) i, ALL.get(ValueLayout.JAVA_BYTE, cur + i), "after realloc to " + size);
            }
        }
        pool.free(cur);
    }

    @Test
    void reallocWithinTheSameClassKeepsTheAddress() {
        long a = pool.malloc(100);
        assertEquals(a, pool.realloc(a, 110));
        pool.free(a);
    }

    @Test
    void failedReallocLeavesTheOriginalUntouched() {
        long a = pool.malloc(1000);
        TestPools.fill(a, 1000, (byte) 0x3c);
        assertEquals(0, pool.realloc(a, 1L << 40));
        assertTrue(TestPools.all(a, 1000, (byte) 0x3c));
        assertEquals(SizeClasses.usable(1000), pool.usableSize(a));
        pool.free(a);
    }

    @Test
    void freeOfNullIsANoOp() {
        pool.free(0);
        assertTrue(pool.check().consistent());
    }

    @Test
    void alignedAllocationHonoursEveryPowerOfTwoUpToFourMiB() {
        for (long align = 1; align <= (4L << 20); align <<= 1) {
            for (long size : new long[] {1, 100, 5000, 70000}) {
                long a = pool.alignedAlloc(align, size);
                assertNotEquals(0, a, "align " + align + " size " + size + ": " + MemoryPool.lastError());
                assertEquals(0, a % align, "align " + align + " size " + size);
                assertTrue(pool.usableSize(a) >= size);
                TestPools.fill(a, size, (byte) 1);
                pool.free(a);
            }
        }
        assertTrue(pool.check().consistent(), pool.check().problems().toString());
    }

    @Test
    @Timeout(60)
    void alignedAllocationRejectsANonPowerOfTwo() {
        assertEquals(0, pool.alignedAlloc(48, 10));
        assertEquals(PoolErrorReason.BAD_ALIGNMENT, MemoryPool.lastErrorReason(), MemoryPool.lastError());
    }

    @Test
    void usableSizeIsAtLeastTheRequestForEverySmallSize() {
        for (long size = 0; size <= 20000; size += 7) {
            long a = pool.malloc(size);
            assertTrue(pool.usableSize(a) >= size, "size " + size);
            pool.free(a);
        }
    }

    @Test
    void strdupCopiesAJavaStringAndACString() {
        long a = pool.strdup("grüße, pool");
        assertEquals("grüße, pool", pool.segment(a).getString(0));
        long b = pool.strdup(a);
        assertNotEquals(a, b);
        assertEquals("grüße, pool", pool.segment(b).getString(0));
        pool.free(a);
        pool.free(b);
    }

    @Test
    void viewsCoverTheBlock() {
        long a = pool.malloc(1000);
        assertEquals(pool.usableSize(a), pool.segment(a).byteSize());
        ByteBuffer bb = pool.byteBuffer(a, 1000);
        assertTrue(bb.isDirect());
        bb.putInt(0, 42);
        assertEquals(42, pool.segment(a).get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 0));
        assertThrows(IllegalArgumentException.class, () -> pool.byteBuffer(a, 5000));
        pool.free(a);
    }

    @Test
    void blocksDoNotOverlap() {
        java.util.TreeMap<Long, Long> blocks = new java.util.TreeMap<>();
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < 3000; i++) {
            long size = 1 + r.nextInt(i % 10 == 0 ? 200_000 : 2000);
            long a = pool.malloc(size);
            var below = blocks.floorEntry(a);
            assertTrue(below == null || below.getKey() + below.getValue() <= a, "overlap below");
            var above = blocks.ceilingEntry(a);
            assertTrue(above == null || a + size <= above.getKey(), "overlap above");
            blocks.put(a, size);
        }
        blocks.keySet().forEach(pool::free);
    }
}
