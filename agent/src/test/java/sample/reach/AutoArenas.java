package sample.reach;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Segments of automatic arenas, dropped as soon as they are written: only the garbage collector frees them. */
public final class AutoArenas {
    private AutoArenas() {
    }

    /** Allocates {@code total} bytes in segments of {@code size}, each from a new ofAuto arena; returns how many. */
    public static int churn(long total, long size) {
        return churn(total, size, 1);
    }

    /** As {@link #churn(long, long)}, each segment aligned to {@code alignment} bytes. */
    public static int churn(long total, long size, long alignment) {
        int n = 0;
        for (long done = 0; done < total; done += size) {
            MemorySegment s = Arena.ofAuto().allocate(size, alignment);
            if (s.address() % alignment != 0) {
                throw new AssertionError("segment at " + s.address() + " not aligned to " + alignment);
            }
            s.set(ValueLayout.JAVA_BYTE, size - 1, (byte) 1);
            n++;
        }
        return n;
    }
}
