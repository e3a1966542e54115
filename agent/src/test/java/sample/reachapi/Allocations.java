package sample.reachapi;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Arena allocation calls, made by code in the implementing class's package: sample.reach (selected) or its renamed
 * unselected copy (the JDK's own segments), so one assertion can run on both.
 */
public interface Allocations {
    MemorySegment allocate(Arena arena, long size);

    MemorySegment allocate(Arena arena, long size, long alignment);

    MemorySegment allocate(Arena arena, MemoryLayout layout);

    MemorySegment allocateFrom(Arena arena, String s);

    MemorySegment allocateFrom(Arena arena, ValueLayout.OfInt layout, int... values);

    /** {@code count} ints of {@code source}, copied into a new segment of {@code arena}. */
    MemorySegment allocateFrom(Arena arena, MemorySegment source, long count);

    /** An arena the program implements itself, in the implementing class's package, over a confined arena. */
    Arena userArena();
}
