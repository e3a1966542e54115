package io.jvmem.agent;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvmem.allocator.MemoryPool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sample.reach.StructReturns;

/**
 * A struct returned by value from a downcall is allocated by the JDK's linker from the {@code SegmentAllocator} the
 * program passes: from a selected class with one of the JDK's arenas, that is an arena allocation of the program's,
 * routed as its direct {@code arena.allocate} would be (pool memory in the caller's arena, back at close); from an
 * unselected class it stays the JDK's. Under the real agent jar (route {@code reach} selects sample.reach).
 */
@org.junit.jupiter.api.Tag("integration")
class StructReturnArenaIT {
    private static MemoryPool pool() {
        return Jvmem.pool("reach");
    }

    private static void assertDiv(MemorySegment r) {
        assertEquals(StructReturns.DIV_T.byteSize(), r.byteSize());
        assertEquals(3, r.get(JAVA_INT, 0), "quot of 17 / 5");
        assertEquals(2, r.get(JAVA_INT, 4), "rem of 17 / 5");
    }

    /** A {@code div_t} that {@code div} returns into an arena of the JDK's: from the pool, in that arena, back at close. */
    private static void assertRoutedIntoTheArena(Arena arena, Div div) throws Throwable {
        long before = pool().stats().allocated();
        MemorySegment r;
        try (arena) {
            r = div.into(arena);
            assertDiv(r);
            assertTrue(pool().contains(r.address()), "not from the route's pool: " + r);
            assertEquals(arena.scope(), r.scope());
        }
        assertFalse(r.scope().isAlive());
        assertEquals(before, pool().stats().allocated(), "closing the arena returns the block");
    }

    /** 17 / 5 by libc's {@code div}, its struct allocated by {@code allocator}. */
    private interface Div {
        MemorySegment into(SegmentAllocator allocator) throws Throwable;
    }

    @Test
    @Timeout(30)
    void aStructReturnedByADowncallInASelectedClassIsAllocatedFromThePoolInTheCallersArena() throws Throwable {
        assertRoutedIntoTheArena(Arena.ofConfined(), a -> StructReturns.div(a, 17, 5));
    }

    @Test
    @Timeout(30)
    void aStructReturnedThroughAHandleTakingTheFunctionsAddressIsRoutedToo() throws Throwable {
        assertRoutedIntoTheArena(Arena.ofShared(), a -> StructReturns.divAt(a, 17, 5));
    }

    @Test
    @Timeout(30)
    void aStructReturnedThroughALookedUpDowncallHandleIsRoutedWhereTheRouteTakesArenasOnly() throws Throwable {
        assertRoutedIntoTheArena(Arena.ofConfined(), a -> sample.arenaonly.StructHandles.div(a, 17, 5));
    }

    @Test
    @Timeout(30)
    void aStructReturnedIntoTheProgramsOwnAllocatorIsLeftToThatAllocator() throws Throwable {
        MemorySegment over = MemorySegment.ofArray(new int[2]);
        MemorySegment r = StructReturns.div(SegmentAllocator.prefixAllocator(over), 17, 5);
        assertDiv(r);
        assertEquals(over.address(), r.address(), "the program's allocator served it");
    }

    @Test
    @Timeout(30)
    void aStructReturnedByADowncallInAnUnselectedClassStaysWithTheJdk() throws Throwable {
        MethodHandle div = MethodHandles.publicLookup().findStatic(
                Class.forName("sample.reachtwin.StructReturns", true, ReachWays.twin()), "div",
                MethodType.methodType(MemorySegment.class, SegmentAllocator.class, int.class, int.class));
        long before = pool().stats().allocated();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment r = (MemorySegment) div.invokeExact((SegmentAllocator) arena, 17, 5);
            assertDiv(r);
            assertTrue(InAgent.pools().stream().noneMatch(p -> p.contains(r.address())), "a pool address: " + r);
            assertEquals(before, pool().stats().allocated());
        }
    }
}
