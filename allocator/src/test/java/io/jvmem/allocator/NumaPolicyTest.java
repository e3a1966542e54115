package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The policy encoding, against the numbers numactl and libnuma pass to mbind(2): MPOL_PREFERRED 1, MPOL_BIND 2,
 * MPOL_INTERLEAVE 3 (linux/mempolicy.h), a nodemask of unsigned longs with node n at bit n % 64 of word n / 64, and a
 * maxnode one more than the mask's bits (libnuma's {@code nmask->size + 1}). Multi-node placement cannot run on this
 * one-node machine; this is what it would send.
 */
@org.junit.jupiter.api.Tag("unit")
class NumaPolicyTest {
    @Test
    @Timeout(10)
    void modesCarryTheKernelsMpolNumbers() {
        assertEquals(1, NumaPolicy.Mode.PREFERRED.mpol);
        assertEquals(2, NumaPolicy.Mode.BIND.mpol);
        assertEquals(3, NumaPolicy.Mode.INTERLEAVE.mpol);
    }

    @Test
    @Timeout(10)
    void nodemaskSetsBitNOfWordNOver64() {
        NumaPolicy p = NumaPolicy.parse("bind:0,2,65");
        assertArrayEquals(new long[] {0b101, 0b10}, p.nodemask());
        assertEquals(129, p.maxnode());
        assertArrayEquals(new long[] {1L << 63}, NumaPolicy.parse("preferred:63").nodemask());
        assertEquals(65, NumaPolicy.parse("preferred:63").maxnode());
    }

    @Test
    @Timeout(10)
    void theModeWordIsReadWhateverItsCaseAsTheConfigsOtherWords() {
        assertEquals(NumaPolicy.bind(0), NumaPolicy.parse("BIND:0"));
        assertEquals(NumaPolicy.Mode.PREFERRED, NumaPolicy.parse("Preferred:1").mode());
    }

    @Test
    @Timeout(10)
    void numactlNodeListsAndRangesParse() {
        NumaPolicy p = NumaPolicy.parse("interleave:0-3,6");
        assertEquals(NumaPolicy.Mode.INTERLEAVE, p.mode());
        assertEquals(List.of(0, 1, 2, 3, 6), p.nodes());
        assertArrayEquals(new long[] {0b1001111}, p.nodemask());
        assertEquals("interleave:0,1,2,3,6", p.toString());
        assertEquals(p, NumaPolicy.parse(p.toString()));
        assertEquals(NumaPolicy.bind(2), NumaPolicy.parse(" bind : 2 "));
    }

    @Test
    @Timeout(10)
    void malformedPoliciesAreRefusedWithTheReason() {
        for (String bad : List.of("bind", "bind:", "membind:0", "preferred:0,1", "bind:-1", "bind:a", "bind:3-1", "bind:1024")) {
            assertThrows(IllegalArgumentException.class, () -> NumaPolicy.parse(bad), bad);
        }
    }
}
