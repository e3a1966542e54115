package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The premain thread's warm-up while the pools open really runs the rewriter (a sample that needs no rewrite would warm nothing). */
@org.junit.jupiter.api.Tag("unit")
class StartupWarmUpTest {
    @Test
    @Timeout(60)
    void theWarmUpRewritesItsSampleAsARoutedClass(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("agent.properties");
        Files.writeString(config, "pool.p.size=64m\nroute.r.include=app\nroute.r.pool=p\n");
        AgentConfig c = ConfigParser.parse(config);
        assertTrue(StartupWarmUp.run(c.routes().get(0)), "the sample's allocations were rewritten");
    }
}
