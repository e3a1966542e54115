package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

@org.junit.jupiter.api.Tag("unit")
class SizeClassesTest {
    /** Slow oracle: list every class by the definition and scan for the smallest one that fits. */
    private static final long[] ORACLE_CLASSES = oracleClasses();

    private static long[] oracleClasses() {
        List<Long> c = new ArrayList<>();
        for (long s = 16; s <= 64; s += 16) {
            c.add(s);
        }
        for (int g = 6; (1L << g) < SizeClasses.MAX_RUN_CLASS; g++) {
            for (int k = 1; k <= 4; k++) {
                c.add((1L << g) + k * (1L << (g - 2)));
            }
        }
        return c.stream().mapToLong(Long::longValue).filter(s -> s <= SizeClasses.MAX_RUN_CLASS).toArray();
    }

    private static int oracle(long size) {
        long want = Math.max(size, 1);
        for (int i = 0; i < ORACLE_CLASSES.length; i++) {
            if (ORACLE_CLASSES[i] >= want) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void classListMatchesTheDefinition() {
        assertEquals(ORACLE_CLASSES.length, SizeClasses.NCLASSES);
        for (int i = 0; i < ORACLE_CLASSES.length; i++) {
            assertEquals(ORACLE_CLASSES[i], SizeClasses.size(i), "class " + i);
        }
    }

    @Test
    void everySizeUpToTheLargestRunClassMapsToTheOracleClass() {
        int hint = 0;
        for (long size = 0; size <= SizeClasses.MAX_RUN_CLASS; size++) {
            int expected;
            // the oracle scan is slow; restart it only when the answer can change
            if (size == 0 || size > ORACLE_CLASSES[hint]) {
                expected = oracle(size);
                hint = expected;
            } else {
                expected = hint;
            }
            int got = SizeClasses.index(size);
            if (got != expected) {
                assertEquals(expected, got, "size " + size);
            }
        }
    }

    @Test
    void oracleScanAgreesAtEveryClassBoundary() {
        for (long c : ORACLE_CLASSES) {
            for (long size = c - 1; size <= c + 1; size++) {
                assertEquals(oracle(size), SizeClasses.index(size), "size " + size);
            }
        }
    }

    @Test
    void tableAndComputedIndexAgree() {
        for (long size = 0; size <= SizeClasses.LOOKUP_MAX; size++) {
            assertEquals(SizeClasses.computeIndex(size), SizeClasses.index(size), "size " + size);
        }
    }

    @Test
    void sizesAboveTheLargestRunClassAreHugeAndPageRounded() {
        for (long boundary = SizeClasses.MAX_RUN_CLASS; boundary <= (1L << 36); boundary <<= 1) {
            for (long size = boundary - 1; size <= boundary + 1; size++) {
                if (size > SizeClasses.MAX_RUN_CLASS) {
                    assertEquals(-1, SizeClasses.index(size), "size " + size);
                    assertEquals((size + 4095) & -4096L, SizeClasses.usable(size), "size " + size);
                }
            }
            for (long size = boundary + 4095; size <= boundary + 4097; size++) {
                assertEquals((size + 4095) & -4096L, SizeClasses.usable(size), "size " + size);
            }
        }
    }

    @Test
    void smallClassesEndBelowTheFirstPageRunClass() {
        assertEquals(SizeClasses.SMALL_MAX, SizeClasses.size(SizeClasses.NSMALL - 1));
        assertEquals(16384, SizeClasses.size(SizeClasses.NSMALL));
        for (int i = SizeClasses.NSMALL; i < SizeClasses.NCLASSES; i++) {
            assertEquals(0, SizeClasses.size(i) % SizeClasses.PAGE, "page-run class " + i + " is whole pages");
        }
    }

    @Test
    void slabsWasteLittleAndHoldWholeRegions() {
        for (int i = 0; i < SizeClasses.NSMALL; i++) {
            long slab = (long) SizeClasses.slabPages(i) * SizeClasses.PAGE;
            long used = SizeClasses.slabRegions(i) * SizeClasses.size(i);
            assertTrue(used <= slab && SizeClasses.slabRegions(i) >= 1, "class " + i);
            assertTrue(slab - used <= slab / 8, "class " + SizeClasses.size(i) + " wastes " + (slab - used) + " of " + slab);
        }
    }
}
