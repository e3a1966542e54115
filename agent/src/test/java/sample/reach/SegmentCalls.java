package sample.reach;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import sample.reachapi.Allocations;

/** Plain arena calls, as a program writes them. */
public final class SegmentCalls implements Allocations {
    @Override
    public MemorySegment allocate(Arena arena, long size) {
        return arena.allocate(size);
    }

    @Override
    public MemorySegment allocate(Arena arena, long size, long alignment) {
        return arena.allocate(size, alignment);
    }

    @Override
    public MemorySegment allocate(Arena arena, MemoryLayout layout) {
        return arena.allocate(layout);
    }

    @Override
    public MemorySegment allocateFrom(Arena arena, String s) {
        return arena.allocateFrom(s);
    }

    @Override
    public MemorySegment allocateFrom(Arena arena, ValueLayout.OfInt layout, int... values) {
        return arena.allocateFrom(layout, values);
    }

    @Override
    public MemorySegment allocateFrom(Arena arena, MemorySegment source, long count) {
        return arena.allocateFrom(ValueLayout.JAVA_INT, source, ValueLayout.JAVA_INT, 0, count);
    }

    @Override
    public Arena userArena() {
        return new UserArena();
    }
}
