package sample.fallback;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Arena allocations in the package of the route whose pool falls back when full (on-exhausted=fallback). */
public final class Segments {
    private Segments() {
    }

    public static MemorySegment allocate(Arena arena, long size) {
        return arena.allocate(size);
    }
}
