package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@org.junit.jupiter.api.Tag("unit")
class ZeroingTest {
    private static final byte JUNK = (byte) 0xa5;

    /** Every length and start offset around the loop's threshold and word size, checked byte by byte against fill. */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void zeroesExactlyTheRangeForEveryLengthAndOffset() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(8192 + 64, 64);
            long[] lengths = {0, 1, 7, 8, 9, 63, 64, 65, Zeroing.LOOP_MIN - 1, Zeroing.LOOP_MIN, Zeroing.LOOP_MIN + 1,
                Zeroing.LOOP_MIN + 7, 4096, 4099, 8191};
            for (long len : lengths) {
                for (int off = 0; off < 9; off++) {
                    s.fill(JUNK);
                    Zeroing.zero(s.address() + off, len);
                    for (long i = 0; i < s.byteSize(); i++) {
                        byte expected = i >= off && i < off + len ? 0 : JUNK;
                        assertEquals(expected, s.get(ValueLayout.JAVA_BYTE, i), "length " + len + " offset " + off + " byte " + i);
                    }
                }
            }
        }
    }
}
