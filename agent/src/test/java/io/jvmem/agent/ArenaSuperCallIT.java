package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sample.reach.CheckedAllocator;
import sample.reach.DecoratingArena;

/**
 * A selected class that implements an arena or allocator itself and calls a {@code SegmentAllocator} default method
 * through {@code Arena.super} / {@code SegmentAllocator.super}: the super call runs the default method on the program's
 * own object, as without the agent (the arena is the program's, left alone), and only the JDK arena call inside it is
 * routed. Under the real agent jar (failsafe's {@code -javaagent}, route {@code reach} selecting sample.reach).
 */
@org.junit.jupiter.api.Tag("integration")
class ArenaSuperCallIT {
    private static boolean inReachPool(long address) {
        return Jvmem.pool("reach").contains(address);
    }

    @Test
    @Timeout(30)
    void aSuperCallToTheDefaultAllocateInTheProgramsOwnArenaRunsTheDefaultOnThatArena() {
        try (DecoratingArena arena = new DecoratingArena()) {
            MemorySegment s = arena.allocate(100); // StackOverflowError when the super call was made virtual
            assertEquals(100, s.byteSize());
            assertEquals(100, arena.bytes(), "the default went through the arena's own allocate(long, long)");
            assertTrue(inReachPool(s.address()), "the JDK arena call inside the selected arena is routed");
        }
    }

    @Test
    @Timeout(30)
    void aSuperCallToTheDefaultAllocateFromInTheProgramsOwnArenaLoadsAndRunsTheDefault() {
        try (Arena arena = new DecoratingArena()) { // VerifyError when the super call's receiver went through the bridge
            MemorySegment s = arena.allocateFrom("decorated");
            assertEquals("decorated", s.getString(0));
            assertEquals(1, ((DecoratingArena) arena).strings());
            assertEquals("decorated".length() + 1, ((DecoratingArena) arena).bytes());
            assertTrue(inReachPool(s.address()));
        }
    }

    @Test
    @Timeout(30)
    void aSuperCallToTheDefaultAllocateOfALayoutInTheProgramsOwnAllocatorSlicesItsOwnSegment() {
        MemorySegment over = MemorySegment.ofArray(new long[8]);
        SegmentAllocator checked = new CheckedAllocator(over);
        MemorySegment s = checked.allocate(ValueLayout.JAVA_LONG); // StackOverflowError when made virtual
        assertEquals(8, s.byteSize());
        assertEquals(over.address(), s.address(), "the first slice of the program's own segment");
        assertTrue(s.heapBase().isPresent());
    }
}
