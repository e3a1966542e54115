package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A route's fallback counters, as the report and the exit summary read them. */
@org.junit.jupiter.api.Tag("unit")
class RouteCountersTest {
    private static Route route() {
        AgentConfig c = ConfigParser.parse("t.properties", List.of("pool.p.size=64m", "route.r.include=a", "route.r.pool=p"));
        return new Route(c.routes().get(0), null);
    }

    /** Requests of any size fall back (the JDK refuses the impossible ones): their byte total stops at Long.MAX_VALUE. */
    @Test
    @Timeout(10)
    void fallbackBytesOfHugeRequestsStopAtTheLargestLongNeverNegative() {
        Route r = route();
        r.fellBack(Route.Fallback.LARGER_THAN_POOL, Long.MAX_VALUE);
        r.fellBack(Route.Fallback.LARGER_THAN_POOL, Long.MAX_VALUE - 100);
        r.fellBack(Route.Fallback.LARGER_THAN_POOL, 64);
        assertEquals(Long.MAX_VALUE, r.fallbackBytes.get());
        assertEquals(Long.MAX_VALUE, r.fallbackBytes(Route.Fallback.LARGER_THAN_POOL));
        assertEquals(3, r.fallbacks.sum());
        assertTrue(r.fallbackSummary().contains("3 requests (8 EiB)"), r.fallbackSummary());
    }

    @Test
    @Timeout(10)
    void fallbackBytesOfOrdinaryRequestsAddUp() {
        Route r = route();
        r.fellBack(Route.Fallback.LARGER_THAN_POOL, 4096);
        r.fellBack(Route.Fallback.RECLAIM_FAILED, 64);
        assertEquals(4160, r.fallbackBytes.get());
        assertEquals(64, r.fallbackBytes(Route.Fallback.RECLAIM_FAILED));
    }
}
