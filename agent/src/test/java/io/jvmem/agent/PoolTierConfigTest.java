package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvmem.agent.AgentConfig.PoolSpec;
import io.jvmem.allocator.MemoryPool;
import io.jvmem.allocator.NumaPolicy;
import io.jvmem.allocator.PoolOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The pool keys of memory tiers: max-size, numa, huge-pages and path = memfd:. */
@org.junit.jupiter.api.Tag("unit")
class PoolTierConfigTest {
    private static AgentConfig parse(String... lines) {
        return ConfigParser.parse("t.properties", List.of(lines));
    }

    @Test
    @Timeout(10)
    void tierKeysParseIntoPoolOptions() {
        PoolSpec p = parse("pool.p.path = memfd:", "pool.p.size = 16m", "pool.p.max-size = 1g", "pool.p.numa = bind:0",
                "pool.p.huge-pages = transparent").pool("p");
        assertTrue(p.memfd());
        PoolOptions o = p.options(PoolOptions.DEFAULT);
        assertEquals(1L << 30, o.maxSize().getAsLong());
        assertEquals(NumaPolicy.bind(0), o.numaPolicy().orElseThrow());
        assertEquals(PoolOptions.HugePages.TRANSPARENT, o.hugePages());
        PoolSpec plain = parse("pool.q.size = 16m").pool("q");
        assertTrue(plain.options(PoolOptions.DEFAULT).maxSize().isEmpty(), "no max-size: a pool of fixed size");
        assertNull(plain.numa());
    }

    @Test
    @Timeout(10)
    void badTierValuesNameTheirLine() {
        ConfigException numa = assertThrows(ConfigException.class, () -> parse("pool.p.size = 16m", "pool.p.numa = membind:0"));
        assertTrue(numa.getMessage().startsWith("t.properties:2: pool.p.numa: unknown NUMA policy"), numa.getMessage());
        ConfigException max = assertThrows(ConfigException.class, () -> parse("pool.p.size = 64m", "pool.p.max-size = 32m"));
        assertTrue(max.getMessage().startsWith("t.properties:2: pool.p.max-size:"), max.getMessage());
        ConfigException huge = assertThrows(ConfigException.class, () -> parse("pool.p.size = 16m", "pool.p.huge-pages = yes"));
        assertTrue(huge.getMessage().contains("known: none, transparent"), huge.getMessage());
        ConfigException cto = assertThrows(ConfigException.class, () -> parse("pool.p.kind = cto", "pool.p.path = memfd:",
                "pool.p.size = 16m"));
        assertTrue(cto.getMessage().contains("memfd: is for volatile pools"), cto.getMessage());
    }

    @Test
    @Timeout(60)
    void aDefaultPoolDirectorySmallerThanThePoolNamesMemfd() throws Exception {
        Path shm = Files.createTempDirectory("jvmem-small-shm");
        Process m = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", shm.toString())
                .redirectErrorStream(true).start();
        boolean mounted = m.waitFor(10, TimeUnit.SECONDS) && m.exitValue() == 0;
        Assumptions.assumeTrue(mounted, "mounting a tmpfs needs root: the small /dev/shm is not checked");
        try {
            AgentConfig c = ConfigParser.parse("t.properties", List.of("pool.p.size = 32m"), shm);
            ConfigException e = assertThrows(ConfigException.class,
                    () -> AgentRuntime.openPools(c, new AgentLog(AgentConfig.LogLevel.QUIET)));
            assertTrue(e.getMessage().startsWith("t.properties:1: pool.p.size:"), e.getMessage());
            assertTrue(e.getMessage().contains("where pools go by default, is smaller than the pool"), e.getMessage());
            assertTrue(e.getMessage().contains("pool.p.path = memfd:"), e.getMessage());
            AgentConfig memfd = ConfigParser.parse("t.properties", List.of("pool.p.size = 32m", "pool.p.path = memfd:"), shm);
            Map<String, MemoryPool> pools = AgentRuntime.openPools(memfd, new AgentLog(AgentConfig.LogLevel.QUIET));
            assertEquals(32L << 20, pools.get("p").size(), "the named option works where the directory is too small");
            pools.values().forEach(MemoryPool::close);
        } finally {
            new ProcessBuilder("umount", shm.toString()).start().waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(shm);
        }
    }
}
