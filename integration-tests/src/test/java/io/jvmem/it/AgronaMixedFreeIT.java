package io.jvmem.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * A pool address handed to Agrona's {@code UnsafeApi.reallocateMemory} / {@code freeMemory} ({@link AgronaMixedFree}).
 *
 * <p>Agrona 2.x's generated {@code org.agrona.UnsafeApi} calls {@code jdk.internal.misc.Unsafe.reallocateMemory /
 * freeMemory} ({@code invokevirtual jdk/internal/misc/Unsafe.freeMemory:(J)V}), not {@code sun.misc.Unsafe}: the agent
 * must make those call sites pool-aware too, or the pool address reaches glibc's {@code realloc}/{@code free} and the
 * JVM aborts ("realloc(): invalid pointer", exit 134, no report).
 */
@org.junit.jupiter.api.Tag("integration")
class AgronaMixedFreeIT {

    @Test
    void poolAddressesFreedThroughAgronaUnsafeApiGoBackToThePool() {
        Forked.Result r = Forked.prepare("agrona-mixed-free")
                .pool("app", "volatile", "64m")
                .route("app", "app", AgronaMixedFree.class.getName())
                .jvm(AgronaRingIT.AGRONA_FLAGS)
                .exec(AgronaMixedFree.class);
        r.assertOk("MIXED OK ");
        Report rep = r.report();
        Map<String, Object> pool = rep.pool("app");
        assertTrue(rep.number(rep.route("app"), "allocations") > 0, "the program's allocateMemory was not routed:\n" + rep.dump);
        assertEquals(0, rep.number(pool, "inUse"), "every block was freed through UnsafeApi.freeMemory:\n" + rep.dump);
        r.assertClean();
    }

    @Test
    void whenAgronaIsRoutedTooItsUnsafeApiReallocateKeepsGrownBlocksInThePool() {
        Forked.Result r = Forked.prepare("agrona-mixed-routed")
                .pool("app", "volatile", "64m")
                .route("app", "app", AgronaMixedFree.class.getName() + ",org.agrona")
                .jvm(AgronaRingIT.AGRONA_FLAGS)
                .exec(AgronaMixedFree.class);
        r.assertOk("MIXED OK ");
        Report rep = r.report();
        assertTrue(rep.siteAllocations("app", "org.agrona.UnsafeApi.reallocateMemory") > 0,
                "UnsafeApi.reallocateMemory (jdk.internal.misc.Unsafe) did not count as a routed site:\n" + rep.dump);
        assertEquals(0, rep.number(rep.pool("app"), "inUse"), rep.dump);
        assertEquals(0, rep.number(rep.route("app"), "fallbacks"), rep.dump);
        r.assertClean();
    }
}
