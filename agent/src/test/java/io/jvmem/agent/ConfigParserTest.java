package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvmem.agent.AgentConfig.Call;
import io.jvmem.agent.AgentConfig.Kind;
import io.jvmem.agent.AgentConfig.OnExhausted;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@org.junit.jupiter.api.Tag("unit")
class ConfigParserTest {
    @TempDir
    Path dir;

    /** A config file with exactly these bytes, parsed as the agent parses it. */
    private AgentConfig parseFile(byte[] bytes) throws IOException {
        Path f = dir.resolve("app.properties");
        Files.write(f, bytes);
        return ConfigParser.parse(f);
    }

    private String fileError(byte[] bytes) throws IOException {
        Path f = dir.resolve("app.properties");
        Files.write(f, bytes);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigParser.parse(f));
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage().replace(f.toString(), "app.properties");
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
    private static AgentConfig parse(String... lines) {
        return ConfigParser.parse("app.properties", List.of(lines));
    }

    private static String error(String... lines) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(lines));
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void anIncludeOfJdkClassesIsWarnedAboutWithItsLine() {
        AgentConfig c = parse("pool.p.size=64m", "route.r.pool=p", "route.r.include=java.nio, org.example");
        assertEquals(List.of("app.properties:3: route.r.include: \"java.nio\" is in packages the agent never rewrites (java., "
                + "jdk., sun., com.sun., io.jvmem.agent, io.jvmem.allocator)"), c.warnings());
    }

    @Test
    void anIncludeThatAnExcludeTakesOutWholeIsWarnedAbout() {
        AgentConfig c = parse("pool.p.size=64m", "route.r.pool=p", "route.r.include=org.example.cache, org.other",
                "route.r.exclude=org.example");
        assertEquals(List.of("app.properties:3: route.r.include: \"org.example.cache\" selects nothing: all of it is "
                + "excluded by \"org.example\""), c.warnings());
    }

    @Test
    void anExcludeInsideAnIncludeIsNoWarning() {
        AgentConfig c = parse("pool.p.size=64m", "route.r.pool=p", "route.r.include=org.example",
                "route.r.exclude=org.example.cache, org.examples");
        assertEquals(List.of(), c.warnings());
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
    void leakDetectionIsOffByDefaultAndTakesItsThreeValues() {
        assertEquals(AgentConfig.LeakDetection.OFF, parse("pool.main.size=64m").leakDetection());
        assertEquals(AgentConfig.LeakDetection.SITES, parse("pool.main.size=64m", "leak-detection=sites").leakDetection());
        assertEquals(AgentConfig.LeakDetection.STACKS, parse("pool.main.size=64m", "leak-detection = stacks").leakDetection());
        assertEquals("app.properties:2: leak-detection: unknown value \"paranoid\" (known: off, sites, stacks)",
                error("pool.main.size=64m", "leak-detection=paranoid"));
    }

    @Test
    void continuationLinesJoin() {
        AgentConfig c = parse("pool.main.size=64m", "route.a.include = a.b, \\", "    c.d", "route.a.pool=main");
        assertEquals(List.of("a.b", "c.d"), c.routes().get(0).include());
    }

    @Test
    void unknownKeyNamesFileLineAndKey() {
        assertEquals("app.properties:2: pool.main.sise: unknown pool key (known: kind, path, size, max-size, layout, on-dirty, numa, huge-pages)",
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

    @Test
    @Timeout(10)
    void unicodeAndOtherEscapesAreReadAsPropertiesReadsThem() throws IOException {
        AgentConfig c = parseFile(utf8("pool.main.si\\u007ae = 64m\nroute.r.include = io.\\u006eetty,\\ org.h2\n"
                + "route.r.pool = m\\a\\in\nreport = " + dir + "/r\\u00e9port.json\n"));
        assertEquals(64L << 20, c.pool("main").size());
        assertEquals(List.of("io.netty", "org.h2"), c.routes().get(0).include());
        assertEquals("main", c.routes().get(0).pool());
        assertEquals(dir.resolve("r\u00e9port.json"), c.report());
    }

    @Test
    @Timeout(10)
    void aContinuationOnTheLastLineOfTheFileIsRead() throws IOException {
        AgentConfig c = parseFile(utf8("pool.main.size=64m\nroute.r.pool=main\nroute.r.include = a.b, \\"));
        assertEquals(List.of("a.b"), c.routes().get(0).include());
    }

    @Test
    @Timeout(10)
    void aFileThatIsNotUtf8IsReadAsIso88591AndStartUpSaysSo() throws IOException {
        byte[] latin1 = "# caf\u00e9 pool\npool.main.size=64m\npool.main.path=/tmp/caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1);
        AgentConfig c = parseFile(latin1);
        assertEquals(Path.of("/tmp/caf\u00e9"), c.pool("main").path());
        assertEquals(List.of(dir.resolve("app.properties") + " is not valid UTF-8 (line 1): read as ISO-8859-1"), c.warnings());
    }

    @Test
    @Timeout(10)
    void anErrorInAFileReadAsIso88591SaysSo() throws IOException {
        assertEquals("app.properties:2: pool.main.size: \"lots\" is not a size (bytes, with an optional k, m, g or t suffix) "
                + "(the file is not valid UTF-8 and was read as ISO-8859-1)",
                fileError("# caf\u00e9\npool.main.size=lots\n".getBytes(StandardCharsets.ISO_8859_1)));
    }

    @Test
    @Timeout(10)
    void aUtf8FileSaysNothing() throws IOException {
        AgentConfig c = parseFile(utf8("# caf\u00e9\npool.main.size=64m\npool.main.path=/tmp/caf\u00e9\n"));
        assertEquals(Path.of("/tmp/caf\u00e9"), c.pool("main").path());
        assertEquals(List.of(), c.warnings());
    }

    @Test
    @Timeout(10)
    void aLeadingByteOrderMarkIsDropped() throws IOException {
        byte[] text = utf8("pool.main.size=64m\n");
        byte[] withBom = new byte[text.length + 3];
        withBom[0] = (byte) 0xef;
        withBom[1] = (byte) 0xbb;
        withBom[2] = (byte) 0xbf;
        System.arraycopy(text, 0, withBom, 3, text.length);
        assertEquals(64L << 20, parseFile(withBom).pool("main").size());
    }

    @Test
    @Timeout(10)
    void anInlineCommentIsRefusedBecausePropertiesMakesItPartOfTheValue() {
        assertEquals("app.properties:1: pool.main.size: bad size \"1g   # a volatile pool\": '#' starts a comment only at "
                + "the beginning of a line", error("pool.main.size = 1g   # a volatile pool"));
        assertEquals("app.properties:3: route.netty.include: bad value \"io.netty      # io.netty and its subpackages\": "
                + "'#' starts a comment only at the beginning of a line",
                error("pool.main.size = 1g", "route.netty.pool = main", "route.netty.include = io.netty      # io.netty and its subpackages"));
    }

    @Test
    @Timeout(10)
    void anEscapedHashIsPartOfTheValue() {
        assertEquals(Path.of("/tmp/a #b"), parse("pool.main.size=64m", "pool.main.path=/tmp/a \\#b").pool("main").path());
    }

    @Test
    @Timeout(10)
    void everyConfigBlockOfTheReadmeParses() throws java.io.IOException {
        String readme = java.nio.file.Files.readString(java.nio.file.Path.of("..", "README.md"));
        List<String> blocks = new java.util.ArrayList<>();
        for (int at = readme.indexOf("```properties\n"); at >= 0; at = readme.indexOf("```properties\n", at + 1)) {
            int start = at + "```properties\n".length();
            blocks.add(readme.substring(start, readme.indexOf("```", start)));
        }
        assertTrue(blocks.size() >= 2, "the README's config blocks: " + blocks.size());
        for (String block : blocks) {
            AgentConfig c = ConfigParser.parse("README.md", List.of(block.split("\n")));
            assertFalse(c.pools().isEmpty(), block);
        }
        AgentConfig minimal = ConfigParser.parse("README.md", List.of(blocks.get(0).split("\n")));
        assertEquals(1L << 30, minimal.pool("main").size());
        assertEquals(List.of("io.netty"), minimal.routes().get(0).include());
    }

    @Test
    @Timeout(10)
    void aMalformedUnicodeEscapeNamesFileLineAndKey() {
        assertEquals("app.properties:2: pool.main.size: malformed \\uXXXX escape (a backslash-u needs four hex digits; "
                + "write \\\\u for a backslash and a u)", error("# pools", "pool.main.size = \\u12"));
    }

    @Test
    @Timeout(10)
    void errorLinesCountNaturalLinesAcrossContinuationsAndLineEndings() {
        assertEquals("app.properties:4: route.r.pool: no pool named \"mian\" is configured (pools: main)",
                error("pool.main.size=64m\r\nroute.r.include = a, \\", "   b\r", "route.r.pool=mian"));
    }

    @Test
    @Timeout(10)
    void aValueWithoutAKeyIsReported() {
        assertEquals("app.properties:2: a line with no key (\"64m\")", error("pool.main.size=64m", "= 64m"));
    }

    @Test
    @Timeout(10)
    void aReportInADirectoryThatDoesNotExistIsRefusedAtStart() {
        Path missing = dir.resolve("no-such-dir");
        assertEquals("app.properties:2: report: cannot write the report: directory " + missing + " does not exist",
                error("pool.main.size=64m", "report=" + missing.resolve("r.json")));
    }

    @Test
    @Timeout(10)
    void aReportPathThatIsADirectoryIsRefusedAtStart() {
        assertEquals("app.properties:1: report: " + dir + " is a directory (the report is a file)", error("report=" + dir));
    }

    @Test
    @Timeout(30)
    void aReportInAReadOnlyDirectoryIsRefusedAtStart() throws Exception {
        Path ro = Files.createDirectory(dir.resolve("ro"));
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ro.toString())
                .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        Assumptions.assumeTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0,
                "mounting a read-only tmpfs needs root: the read-only report directory is not checked");
        try {
            assertEquals("app.properties:1: report: cannot write the report: directory " + ro + " is not writable",
                    error("report=" + ro.resolve("r.json")));
        } finally {
            new ProcessBuilder("umount", ro.toString()).start().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
