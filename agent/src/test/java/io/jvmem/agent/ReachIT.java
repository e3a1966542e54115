package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvmem.allocator.MemoryPool;
import io.jvmem.allocator.PoolCheck;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import sample.reachapi.Way;

/**
 * Every way a program reaches off-heap memory, under the real agent jar: in a class the config selects, the memory
 * comes from the route's pool; in a class no route selects, from the JDK or libc; and a pool block given back through
 * the way (by a selected or an unselected class) returns to its pool. The ways are written once in sample.reach; the
 * unselected copies are the same class files renamed ({@link ReachWays}).
 */
class ReachIT {
    private static final long SIZE = 10_000;
    private static final Map<String, Way> SELECTED = ReachWays.load(ReachIT.class.getClassLoader(), ReachWays.SELECTED);
    private static final Map<String, Way> UNSELECTED = ReachWays.load(ReachWays.twin(), ReachWays.UNSELECTED);

    static Stream<String> ways() {
        return SELECTED.keySet().stream();
    }

    static Stream<String> freeingWays() {
        return SELECTED.entrySet().stream().filter(e -> e.getValue().frees()).map(Map.Entry::getKey);
    }

    private static MemoryPool pool() {
        return Jvmem.pool("reach");
    }

    private static boolean inAnyPool(long address) {
        return AgentRuntime.current().pools().values().stream().anyMatch(p -> p.contains(address));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ways")
    @Timeout(30)
    void aSelectedClassGetsItsMemoryFromTheRoutesPool(String way) throws Throwable {
        long before = pool().stats().allocated();
        Way.Block b = SELECTED.get(way).allocate(SIZE);
        try {
            assertTrue(pool().contains(b.address()), "not a pool address: " + Long.toHexString(b.address()));
            long inUse = pool().stats().allocated();
            assertTrue(inUse >= before + SIZE, "in use " + before + " -> " + inUse);
        } finally {
            b.release();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ways")
    @Timeout(30)
    void anUnselectedClassGetsNoPoolMemory(String way) throws Throwable {
        long before = pool().stats().allocated();
        Way.Block b = UNSELECTED.get(way).allocate(SIZE);
        try {
            assertFalse(inAnyPool(b.address()), "a pool address: " + Long.toHexString(b.address()));
            assertEquals(before, pool().stats().allocated());
        } finally {
            b.release();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ways")
    @Timeout(30)
    void releasingPoolMemoryTheWaysOwnWayReturnsItToThePool(String way) throws Throwable {
        long before = pool().stats().allocated();
        Way.Block b = SELECTED.get(way).allocate(SIZE);
        assertTrue(pool().contains(b.address()));
        b.release();
        assertEquals(before, pool().stats().allocated());
        assertEquals(PoolCheck.Status.CONSISTENT, pool().check().status());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("freeingWays")
    @Timeout(30)
    void aPoolAddressFreedThisWayInAnUnselectedClassReturnsToThePool(String way) throws Throwable {
        long before = pool().stats().allocated();
        Way.Block b = SELECTED.get(way).allocate(SIZE);
        assertTrue(pool().contains(b.address()));
        UNSELECTED.get(way).free(b.address());
        assertEquals(before, pool().stats().allocated());
        assertEquals(PoolCheck.Status.CONSISTENT, pool().check().status());
    }
}
