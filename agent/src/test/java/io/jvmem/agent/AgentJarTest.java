package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Where the agent finds its own jar, and the class files the build embeds for it. */
@Tag("unit")
class AgentJarTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(30)
    void theJavaagentArgumentNamingTheAgentJarIsFoundWithOrWithoutOptions() throws IOException {
        Path jar = Files.createFile(dir.resolve(AgentJar.NAME));
        assertEquals(jar, AgentJar.fromArguments(List.of("-Xmx1g", "-javaagent:" + jar + "=cfg.properties")));
        assertEquals(jar, AgentJar.fromArguments(List.of("-javaagent:" + jar)));
    }

    @Test
    @Timeout(30)
    void otherAgentsAndMissingFilesAreSkipped() throws IOException {
        Path other = Files.createFile(dir.resolve("other-agent.jar"));
        Path missing = dir.resolve("gone").resolve(AgentJar.NAME);
        Path jar = Files.createFile(dir.resolve(AgentJar.NAME));
        assertEquals(jar, AgentJar.fromArguments(List.of("-javaagent:" + other, "-javaagent:" + missing + "=x",
                "-javaagent:" + jar + "=y")));
        assertNull(AgentJar.fromArguments(List.of("-javaagent:" + other, "-javaagent:" + missing, "-cp", jar.toString())));
    }

    @Test
    @Timeout(30)
    void optionVariablesSplitAtAnyRunOfWhiteSpace() {
        assertEquals(List.of("-javaagent:/a/jvmem-agent.jar=c", "-Xmx1g", "-Dx=y"),
                AgentJar.splitOptions("  -javaagent:/a/jvmem-agent.jar=c \t -Xmx1g\n-Dx=y  "));
        assertEquals(List.of(), AgentJar.splitOptions(" \t "));
    }

    @Test
    @Timeout(30)
    void optionVariablesKeepAQuotedArgumentWithWhiteSpaceWholeAndDropItsQuotes() {
        // both the JVM (JAVA_TOOL_OPTIONS) and the launcher (JDK_JAVA_OPTIONS) take quotes this way: a path with a space
        assertEquals(List.of("-javaagent:/a b/jvmem-agent-2.jar=c", "-Xmx1g"),
                AgentJar.splitOptions("-javaagent:'/a b/jvmem-agent-2.jar=c' -Xmx1g"));
        assertEquals(List.of("-javaagent:/a b/jvmem-agent-2.jar=c", "-Dq=it's"),
                AgentJar.splitOptions("\t\"-javaagent:/a b/jvmem-agent-2.jar=c\"\n -Dq=it\"'\"s"));
    }

    @Test
    @Timeout(30)
    void anArgumentFileSplitsAsTheLauncherSplitsIt() {
        assertEquals(List.of("-Xmx1g", "-javaagent:/a b/jvmem-agent-2.jar=c", "-cp", "x", "tab\there", "joined"),
                AgentJar.splitArgumentFile("# a comment line\n-Xmx1g \"-javaagent:/a b/jvmem-agent-2.jar=c\"\n"
                        + "  -cp x # the rest of this line\n'tab\\there' \"jo\\\n    ined\"\n"));
    }

    @Test
    @Timeout(30)
    void argumentFilesOnTheCommandLineAreExpandedUntilDisabled() throws IOException {
        Path file = Files.writeString(dir.resolve("jvm args"), "-javaagent:/x/jvmem-agent-2.jar=cfg -Da=b\n");
        assertEquals(List.of("java", "-javaagent:/x/jvmem-agent-2.jar=cfg", "-Da=b", "@@literal", "@" + dir.resolve("gone"),
                "--disable-@files", "@" + file), AgentJar.withArgumentFiles(List.of("java", "@" + file, "@@literal",
                "@" + dir.resolve("gone"), "--disable-@files", "@" + file)));
    }

    @Test
    @Timeout(30)
    void theCommandLineIsReadFromProcOneArgumentPerElement() {
        List<String> line = AgentJar.commandLine();
        assertFalse(line.isEmpty(), "/proc/self/cmdline read");
        assertTrue(line.get(0).endsWith("java"), "the launcher comes first: " + line.get(0));
        assertTrue(line.stream().noneMatch(a -> a.indexOf('\0') >= 0), "split at the NUL bytes");
    }

    @Test
    @Timeout(30)
    void aJavaagentNamingTheAgentJarOnTheCommandLineIsNoCauseWhateverIsBesideIt() throws IOException {
        Path jar = Files.createFile(dir.resolve(AgentJar.NAME));
        Files.createFile(dir.resolve("jvmem-agent-2.jar"));
        assertNull(AgentJar.foreignBootJar(List.of("-javaagent:" + jar + "=cfg", "-javaagent:" + dir.resolve("jvmem-agent-2.jar"))));
    }

    @Test
    @Timeout(30)
    void aCodeSourceThatIsADirectoryNamesNoJar() throws Exception {
        assertNull(AgentJar.fromCodeSource(new CodeSource(dir.toUri().toURL(), (java.security.cert.Certificate[]) null)));
        Path jar = Files.createFile(dir.resolve("renamed.jar"));
        assertEquals(jar, AgentJar.fromCodeSource(new CodeSource(jar.toUri().toURL(), (java.security.cert.Certificate[]) null)));
    }

    @Test
    @Timeout(30)
    void everyEmbeddedClassFileIsTheBuiltFileByteForByte() throws Exception {
        Map<String, byte[]> embedded = AgentJar.embedded();
        assertEquals(BridgeFiles.DEFINED.size() + BridgeFiles.ALSO_EMBEDDED.size(), embedded.size(),
                "the build step wrote DefinedClassFiles: " + embedded.keySet());
        Path classes = Path.of(AgentJar.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        for (Map.Entry<String, byte[]> e : embedded.entrySet()) {
            assertArrayEquals(Files.readAllBytes(classes.resolve(e.getKey() + ".class")), e.getValue(), e.getKey());
        }
    }

    @Test
    @Timeout(30)
    void chunksRoundTripAndEachFitsAStringConstant() throws IOException {
        byte[] bytes = new byte[200_000];
        new Random(7).nextBytes(bytes);
        for (int i = 0; i < 70_000; i++) {
            bytes[i] = 0; // zeros take two bytes in modified UTF-8: the worst case
        }
        List<String> chunks = BridgeFiles.chunks(bytes);
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (String c : chunks) {
            joined.writeBytes(c.getBytes(StandardCharsets.ISO_8859_1));
            new DataOutputStream(new ByteArrayOutputStream()).writeUTF(c); // the class file's limit: throws above 65535
        }
        assertArrayEquals(bytes, joined.toByteArray());
        assertTrue(chunks.size() >= 4, "200 KB with 70 KB of zeros needs at least 4 constants: " + chunks.size());
    }

    @Test
    @Timeout(30)
    void aClassFileTheJarLacksIsNullNotAnError() throws IOException {
        assertNull(AgentJar.classFileOrNull("io/jvmem/agent/NoSuchClass"));
        assertFalse(AgentJar.embedded().containsKey("io/jvmem/agent/NoSuchClass"));
    }

    @Test
    @Timeout(30)
    void aJvmemJarOfAnotherNameBesideAJvmemAgentJarIsNamedAsTheCause() throws IOException {
        Path renamed = ManifestOnlyAgent.write(dir.resolve("jvmem-agent-0.2.jar"), AgentJar.PREMAIN_CLASS, false);
        Path beside = ManifestOnlyAgent.write(dir.resolve(AgentJar.NAME), AgentJar.PREMAIN_CLASS, false);
        String line = AgentJar.foreignBootJar(List.of("-javaagent:" + renamed + "=cfg"));
        assertTrue(line != null && line.contains(renamed.toString()) && line.contains(beside.toString()), line);
    }

    @Test
    @Timeout(30)
    void theJarNamedItselfOrAnotherAgentBesideItIsNotACause() throws IOException {
        Path jar = ManifestOnlyAgent.write(dir.resolve(AgentJar.NAME), AgentJar.PREMAIN_CLASS, false);
        Path otherAgent = ManifestOnlyAgent.write(dir.resolve("tracer.jar"), "com.example.Tracer", false);
        assertNull(AgentJar.foreignBootJar(List.of("-javaagent:" + jar + "=cfg", "-javaagent:" + otherAgent)));
        assertNull(AgentJar.foreignBootJar(List.of("-javaagent:" + otherAgent)), "another agent beside ours is no cause");
        Path alone = Files.createDirectories(dir.resolve("alone"));
        Path renamed = ManifestOnlyAgent.write(alone.resolve("jvmem.jar"), AgentJar.PREMAIN_CLASS, false);
        assertNull(AgentJar.foreignBootJar(List.of("-javaagent:" + renamed)), "renamed with nothing beside it: app loader");
    }
}
