package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

@org.junit.jupiter.api.Tag("unit")
class RouteTableTest {
    private static RouteTable table(String... lines) {
        AgentConfig c = ConfigParser.parse("t.properties", List.of(lines));
        return new RouteTable(c.routes().stream().map(r -> new Route(r, null)).toList());
    }

    @Test
    void packagePrefixMatchesSubpackagesNotSiblingsWithTheSameStart() {
        RouteTable t = table("pool.p.size=64m", "route.n.include=io.netty", "route.n.pool=p");
        assertEquals("n", t.select("io.netty.buffer.PoolArena").name());
        assertEquals("n", t.select("io.netty.Foo").name());
        assertNull(t.select("io.nettyx.Foo"));
        assertNull(t.select("io.net"));
    }

    @Test
    void classNameMatchesItselfAndItsNestedClasses() {
        RouteTable t = table("pool.p.size=64m", "route.n.include=org.a.Cache", "route.n.pool=p");
        assertEquals("n", t.select("org.a.Cache").name());
        assertEquals("n", t.select("org.a.Cache$Entry").name());
        assertNull(t.select("org.a.CacheLoader"));
    }

    @Test
    void mostSpecificIncludeWins() {
        RouteTable t = table("pool.p.size=64m", "route.a.include=io.netty", "route.a.pool=p",
                "route.b.include=io.netty.buffer", "route.b.pool=p");
        assertEquals("b", t.select("io.netty.buffer.X").name());
        assertEquals("a", t.select("io.netty.channel.X").name());
    }

    @Test
    void excludeWinsOverIncludeAndLeavesTheClassToABroaderRoute() {
        RouteTable t = table("pool.p.size=64m", "route.a.include=io.netty", "route.a.pool=p",
                "route.b.include=io.netty.buffer", "route.b.exclude=io.netty.buffer.unsafe", "route.b.pool=p",
                "route.c.include=org.x", "route.c.exclude=org.x.Y", "route.c.pool=p");
        assertEquals("a", t.select("io.netty.buffer.unsafe.Z").name());
        assertNull(t.select("org.x.Y"));
        assertEquals("c", t.select("org.x.Z").name());
    }
}
