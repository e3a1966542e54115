package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvmem.agent.AgentConfig.Call;
import io.jvmem.agent.AgentConfig.Kind;
import io.jvmem.agent.AgentConfig.OnExhausted;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ConfigParserTest {
    private static AgentConfig parse(String... lines) {
        return ConfigParser.parse("app.properties", List.of(lines));
    }

    private static String error(String... lines) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(lines));
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void fullConfigParsesWithDefaults() {
        AgentConfig c = parse("# comment", "pool.main.size = 1g", "pool.p2.kind: cto", "pool.p2.path=/tmp/x.pool",
                "pool.p2.size=32M", "route.net.include = io.netty, org.example.Cache", "route.net.pool = main",
                "route.net.min-size=4k", "route.net.on-exhausted=fail", "route.db.include=org.h2", "route.db.pool=p2",
                "route.db.calls=allocateDirect", "report=/tmp/r.json");
        assertEquals(1L << 30, c.pool("main").size());
        assertEquals(Kind.VOLATILE, c.pool("main").kind());
        assertEquals(Kind.CTO, c.pool("p2").kind());
        assertEquals("p2", c.pool("p2").layout());
        assertEquals(List.of("io.netty", "org.example.Cache"), c.routes().get(0).include());
        assertEquals(4096, c.routes().get(0).minSize());
        assertEquals(OnExhausted.FAIL, c.routes().get(0).onExhausted());
        assertEquals(java.util.EnumSet.allOf(Call.class), c.routes().get(0).calls(), "every kind by default");
        assertEquals(Set.of(Call.ALLOCATE_DIRECT), c.routes().get(1).calls());
        assertEquals(OnExhausted.FALLBACK, c.routes().get(1).onExhausted());
    }

    @Test
    void continuationLinesJoin() {
        AgentConfig c = parse("pool.main.size=64m", "route.a.include = a.b, \\", "    c.d", "route.a.pool=main");
        assertEquals(List.of("a.b", "c.d"), c.routes().get(0).include());
    }

    @Test
    void unknownKeyNamesFileLineAndKey() {
        assertEquals("app.properties:2: pool.main.sise: unknown pool key (known: kind, path, size, layout, on-dirty)",
                error("pool.main.size=64m", "pool.main.sise=1g"));
        assertTrue(error("pool.main.size=64m", "", "reprot=/x").startsWith("app.properties:3: reprot: unknown key"));
    }

    @Test
    void badSizeIsReported() {
        assertTrue(error("pool.main.size=64x").startsWith("app.properties:1: pool.main.size: \"64x\" is not a size"));
    }

    @Test
    void poolBelowMinimumIsReported() {
        assertTrue(error("pool.main.size=1m").contains("pool.main.size: pool size 1048576 is below the minimum of 14 MiB"));
    }

    @Test
    void badEnumValueListsKnownValues() {
        assertEquals("app.properties:3: route.r.on-exhausted: unknown value \"retry\" (known: fallback, fail)",
                error("pool.main.size=64m", "route.r.include=a", "route.r.on-exhausted=retry", "route.r.pool=main"));
        assertTrue(error("pool.main.size=64m", "pool.main.kind=dax").contains("pool.main.kind: unknown value \"dax\""));
    }

    @Test
    void routeNamingUnknownPoolIsReported() {
        assertEquals("app.properties:3: route.r.pool: no pool named \"mian\" is configured (pools: main)",
                error("pool.main.size=64m", "route.r.include=a", "route.r.pool=mian"));
    }

    @Test
    void samePrefixIncludedByTwoRoutesIsReported() {
        assertEquals("app.properties:5: route.b.include: \"io.netty\" is already included by route a",
                error("pool.main.size=64m", "route.a.include=io.netty", "route.a.pool=main", "route.b.pool=main",
                        "route.b.include=io.netty"));
    }

    @Test
    void keyGivenTwiceIsReported() {
        assertEquals("app.properties:2: pool.main.size: given twice (first on line 1)",
                error("pool.main.size=64m", "pool.main.size=128m"));
    }

    @Test
    void missingRequiredKeysAreReported() {
        assertTrue(error("pool.main.path=/tmp").contains("pool.main.size: missing"));
        assertTrue(error("pool.main.size=64m", "route.r.pool=main").contains("route.r.include: missing"));
        assertTrue(error("pool.main.size=64m", "route.r.include=a").contains("route.r.pool: missing"));
        assertTrue(error("pool.c.kind=cto", "pool.c.size=64m").contains("pool.c.path: a cto pool needs"));
    }

    @Test
    void badClassNameIsReported() {
        assertTrue(error("pool.main.size=64m", "route.r.include=io.netty, 9bad", "route.r.pool=main")
                .contains("route.r.include: \"9bad\" is not a package prefix or class name"));
    }

    @Test
    void unknownCallIsReported() {
        assertTrue(error("pool.main.size=64m", "route.r.include=a", "route.r.pool=main", "route.r.calls=malloc")
                .contains("route.r.calls: unknown call \"malloc\""));
    }

    @Test
    void missingFileIsReported() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigParser.parse(java.nio.file.Path.of("/nonexistent/j.properties")));
        assertEquals("/nonexistent/j.properties: config file not found", e.getMessage());
    }
}
