package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

@org.junit.jupiter.api.Tag("unit")
class SlabIndexTest {
    @Test
    void reciprocalRegionIndexMatchesDivisionForEveryRegionOfEverySmallClass() {
        for (int cls = 0; cls < SizeClasses.NSMALL; cls++) {
            for (long startPage : new long[] {0, 1, 12345, (1L << 31) / SizeClasses.PAGE}) {
                Slab s = new Slab(0, cls, startPage, null);
                for (int i = 0; i < s.nregs; i++) {
                    long off = s.heapOffset + (long) i * s.regionSize;
                    assertEquals((off - s.heapOffset) / s.regionSize, s.regionIndex(off), "class " + cls + " region " + i);
                }
            }
        }
    }
}
