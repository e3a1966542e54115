package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Failures carry a reason to switch on: exceptions, the per-thread last error, and checks that could not run. */
@org.junit.jupiter.api.Tag("unit")
class ErrorReasonTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(30)
    void eachExceptionTypeCarriesItsReason() {
        VolatilePool p = TestPools.create(16L << 20);
        long a = p.malloc(100);
        p.free(a);
        assertEquals(PoolErrorReason.INVALID_FREE, assertThrows(InvalidFreeException.class, () -> p.free(a)).reason());
        p.delete();
        assertEquals(PoolErrorReason.CLOSED, assertThrows(PoolClosedException.class, () -> p.malloc(10)).reason());
        try (VolatilePool rz = TestPools.create(16L << 20, PoolOptions.DEFAULT.withRedzones(true))) {
            long b = rz.malloc(10);
            rz.segment(b).reinterpret(11).set(java.lang.foreign.ValueLayout.JAVA_BYTE, 10, (byte) 1);
            assertEquals(PoolErrorReason.CORRUPT, assertThrows(HeapCorruptionException.class, () -> rz.free(b)).reason());
        }
    }

    @Test
    @Timeout(30)
    void theLastErrorKeepsItsTextAndGainsAReason() {
        try (VolatilePool p = TestPools.create(16L << 20)) {
            assertEquals(0, p.malloc(-1));
            assertEquals(PoolErrorReason.NEGATIVE_SIZE, MemoryPool.lastErrorReason());
            assertEquals("negative size -1", MemoryPool.lastError());
            assertEquals(0, p.malloc(1L << 40));
            assertEquals(PoolErrorReason.TOO_LARGE, MemoryPool.lastErrorReason(), MemoryPool.lastError());
        }
    }

    /**
     * An alignment no address in the heap can meet (one page at a multiple of an alignment above the pool's size lies in
     * the heap only where the heap happens to span such a multiple) is refused at once as too large, as an oversized
     * request is, never as an out-of-memory that a wait or a collection could cure; one the heap meets is served.
     */
    @Test
    @Timeout(30)
    void anAlignmentTheHeapCannotMeetIsTooLargeNeverOutOfMemory() {
        try (VolatilePool p = TestPools.create(16L << 20)) {
            int refused = 0;
            for (long align = 32L << 20; align <= 1L << 40; align <<= 1) {
                long a = p.alignedAlloc(align, 100);
                if (a != 0) {
                    assertEquals(0, a % align, "served at an address the alignment does not divide");
                    p.free(a);
                    continue;
                }
                assertEquals(PoolErrorReason.TOO_LARGE, MemoryPool.lastErrorReason(), MemoryPool.lastError());
                assertTrue(MemoryPool.lastError().contains("aligned to " + align), MemoryPool.lastError());
                refused++;
            }
            assertTrue(refused > 0, "every alignment up to 1 TiB placed in a 16 MiB heap");
        }
    }

    @Test
    @Timeout(30)
    void aThreadWhoseOperationsNeverFailedHasNoReason() throws Exception {
        try (VolatilePool p = TestPools.create(16L << 20)) {
            assertEquals(0, p.malloc(-1)); // this thread's failure is not another's
            AtomicReference<PoolErrorReason> seen = new AtomicReference<>();
            AtomicReference<String> text = new AtomicReference<>();
            Thread t = Thread.ofPlatform().start(() -> {
                p.free(p.malloc(10));
                seen.set(MemoryPool.lastErrorReason());
                text.set(MemoryPool.lastError());
            });
            t.join();
            assertEquals(PoolErrorReason.NONE, seen.get());
            assertEquals("", text.get());
        }
    }

    @Test
    @Timeout(30)
    void aCheckThatCannotRunSaysWhy() {
        PoolCheck c = CtoPool.check(dir.resolve("absent"), "x");
        assertEquals(PoolCheck.Status.NOT_CHECKED, c.status());
        assertEquals(PoolErrorReason.NOT_FOUND, c.reason(), c.problems().toString());
        assertFalse(c.problems().isEmpty());
        Path file = dir.resolve("pool");
        CtoPool.create(file, "x", 16L << 20).close();
        assertEquals(PoolErrorReason.NONE, CtoPool.check(file, "x").reason());
        try (CtoPool open = CtoPool.open(file, "x")) {
            assertEquals(PoolErrorReason.LOCKED, CtoPool.check(file, "x").reason());
        }
    }
}
