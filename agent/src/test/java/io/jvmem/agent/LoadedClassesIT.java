package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link LoadedClasses} in JVMs of their own: a batch of classes loaded before a late attach that the JVM refuses
 * because of one class (another agent adds a field to it on retransformation) costs that class alone, reported once.
 */
@org.junit.jupiter.api.Tag("integration")
class LoadedClassesIT {
    private static final Path JAR = Path.of("target/jvmem-agent.jar").toAbsolutePath();

    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void aClassTheJvmRefusesToRetransformIsReportedAloneAndTheRestOfItsBatchIsRewritten() throws Exception {
        assertTrue(Files.isRegularFile(JAR), "build the agent jar first: " + JAR);
        Path config = dir.resolve("jvmem.properties");
        Files.write(config, List.of("pool.late.size=64m", "route.r.include=sample.late", "route.r.pool=late", "log=warn"));
        Path log = dir.resolve("redefine.log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Djdk.attach.allowAttachSelf=true",
                "-javaagent:" + ManifestOnlyAgent.write(dir.resolve("other-agent.jar"), "sample.late.FieldAddingAgent", true),
                "-Xlog:redefine+class+timer=info:file=" + log,
                "-cp", System.getProperty("java.class.path"), "sample.late.ManyClassesMain", JAR.toString(),
                config.toString(), "600"));
        Process p = new ProcessBuilder(cmd).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        List<String> err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out + err);
        assertEquals("after-in-pool=true\n", out, "Alloc, in the refused class's batch, was rewritten: " + err);
        List<String> jvmem = err.stream().filter(l -> l.startsWith("jvmem")).toList();
        assertEquals(1, jvmem.size(), "one line, for the refused class: " + err);
        assertTrue(jvmem.get(0).startsWith("jvmem: could not retransform sample.late.Victim: java.lang.UnsupportedOperationException"),
                jvmem.get(0));
        long operations = Files.readAllLines(log).stream().filter(l -> l.contains("vm_op:")).count();
        assertTrue(operations < 40, "halving a batch to find one class takes a few operations, not one per class: "
                + operations);
    }
}
