package io.jvmem.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README as a newcomer uses it: every {@code ```properties} block is a config the agent starts with, and every
 * field the agent's report carries has a row in the README's field table.
 */
@org.junit.jupiter.api.Tag("integration")
class ReadmeIT {
    static final Path README = Path.of("..", "README.md");

    @TempDir
    Path dir;

    private record Result(int exit, String out, String err) {
    }

    /** {@code java -javaagent:<jar>=<config> ReportFields} in {@code cwd}, as a user would start a program. */
    private static Result runUnderAgent(Path config, Path cwd) throws IOException, InterruptedException {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-javaagent:" + Forked.agentJar() + "=" + config,
                "-cp", Forked.programClasspath(), ReportFields.class.getName());
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile())
                .redirectOutput(cwd.resolve("stdout.txt").toFile()).redirectError(cwd.resolve("stderr.txt").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        return new Result(p.isAlive() ? -1 : p.exitValue(), Files.readString(cwd.resolve("stdout.txt")),
                Files.readString(cwd.resolve("stderr.txt")));
    }

    static List<String> propertiesBlocks(String readme) {
        List<String> blocks = new ArrayList<>();
        for (int at = readme.indexOf("```properties\n"); at >= 0; at = readme.indexOf("```properties\n", at + 1)) {
            int start = at + "```properties\n".length();
            blocks.add(readme.substring(start, readme.indexOf("```", start)));
        }
        return blocks;
    }

    /**
     * A block as this machine can start it: NUMA nodes it lacks become node 0, its only node (the README's CXL example
     * names node 2, an expander; whether a node exists is the machine's, not the config's, and a missing one is refused
     * at start with its line, as ConfigParserTest and PoolTierConfigTest check).
     */
    static final String README_HUGETLBFS = "/mnt/huge";

    /** Huge pages reserved and a hugetlbfs mounted for one block; both undone at close (needs root, as CI runs). */
    static final class HugetlbfsMount implements AutoCloseable {
        private static final Path NR = Path.of("/proc/sys/vm/nr_hugepages");
        final Path dir;
        private final String savedNr;

        private HugetlbfsMount(Path dir, String savedNr) {
            this.dir = dir;
            this.savedNr = savedNr;
        }

        static HugetlbfsMount forPoolBytes(long bytes) throws Exception {
            String saved = readSetting(NR);
            long pages = bytes / (2L << 20) + 8;
            assertTrue(sh("echo " + (Long.parseLong(saved) + pages) + " > " + NR), "cannot reserve huge pages (needs root)");
            Path d = Files.createTempDirectory("jvmem-readme-huge");
            HugetlbfsMount m = new HugetlbfsMount(d, saved);
            if (!sh("mount -t hugetlbfs -o pagesize=2M none " + d)) {
                m.close();
                throw new AssertionError("cannot mount hugetlbfs at " + d + " (needs root)");
            }
            return m;
        }

        @Override
        public void close() throws Exception {
            sh("umount " + dir);
            Files.deleteIfExists(dir);
            sh("echo " + savedNr + " > " + NR);
        }

        /** Read whole: Files.readString gives only the first byte of /proc/sys/vm/nr_hugepages. */
        private static String readSetting(Path p) throws java.io.IOException {
            try (java.io.FileInputStream in = new java.io.FileInputStream(p.toFile())) {
                return new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim();
            }
        }

        private static boolean sh(String command) throws Exception {
            Process p = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        }
    }

    static String onThisMachine(String block) throws java.io.IOException {
        String online = Files.readString(Path.of("/sys/devices/system/node/online")).strip();
        if (!online.equals("0")) {
            return block; // a multi-node machine starts the blocks as written
        }
        StringBuilder b = new StringBuilder();
        for (String line : block.split("\n", -1)) {
            if (line.strip().matches("pool\\.[^.=\\s]+\\.numa\\s*=.*")) {
                line = line.substring(0, line.indexOf('=') + 1) + " " + line.substring(line.indexOf('=') + 1).strip()
                        .replaceAll("\\d+(-\\d+)?", "0");
            }
            b.append(line).append('\n');
        }
        return b.substring(0, b.length() - 1);
    }

    @Test
    @Timeout(300)
    void everyPropertiesBlockOfTheReadmeStartsTheAgentCleanly() throws Exception {
        List<String> blocks = propertiesBlocks(Files.readString(README, StandardCharsets.UTF_8));
        assertTrue(blocks.size() >= 2, "the README's ```properties blocks: " + blocks.size());
        for (int i = 0; i < blocks.size(); i++) {
            Path cwd = Files.createDirectory(dir.resolve("block-" + i));
            Path config = cwd.resolve("jvmem.properties");
            String block = onThisMachine(blocks.get(i));
            Result r;
            if (block.contains(README_HUGETLBFS)) {
                // the README's hugetlbfs example: root prepares huge pages and the mount, as its text says, here on a
                // mount of the test's own, undone afterwards
                try (HugetlbfsMount m = HugetlbfsMount.forPoolBytes(2L << 30)) {
                    Files.writeString(config, block.replace(README_HUGETLBFS, m.dir.toString()), StandardCharsets.UTF_8);
                    r = runUnderAgent(config, cwd);
                }
            } else {
                Files.writeString(config, block, StandardCharsets.UTF_8);
                r = runUnderAgent(config, cwd);
            }
            String what = "README block " + i + ":\n" + blocks.get(i) + "--- stdout:\n" + r.out + "--- stderr:\n" + r.err;
            assertEquals(0, r.exit, what);
            assertEquals("ReportFields OK\n", r.out, what);
            assertEquals("", r.err, "a clean start prints nothing: " + what);
        }
    }

    @Test
    @Timeout(120)
    void everyFieldOfTheReportHasARowInTheReadmesFieldTable() throws Exception {
        Path report = dir.resolve("report.json");
        Path config = dir.resolve("jvmem.properties");
        Files.writeString(config, "pool.main.size = 16m\nroute.r.include = " + ReportFields.class.getName()
                + "\nroute.r.pool = main\nlog = quiet\nreport = " + report + "\n", StandardCharsets.UTF_8);
        Result r = runUnderAgent(config, dir);
        assertEquals(0, r.exit, r.out + r.err);
        Report parsed = Report.read(report, "\n" + r.out + r.err);
        assertFalse(parsed.list("sites").isEmpty(), parsed.text);
        assertFalse(((List<?>) parsed.route("r").get("unrouted")).isEmpty(), "the unrouted row: " + parsed.text);

        Map<String, String> rows = fieldRows(Files.readString(README, StandardCharsets.UTF_8));
        TreeSet<String> leaves = new TreeSet<>();
        flatten("", parsed.root, leaves);
        List<String> missing = new ArrayList<>();
        for (String leaf : leaves) {
            if (!documented(leaf, rows)) {
                missing.add(leaf);
            }
        }
        assertEquals(List.of(), missing, "report fields without a row in the README's field table (\"### The report\"), "
                + "which has: " + rows.keySet());
    }

    /** The field table under "### The report": first cell (one field name in backticks) → the whole row. */
    static Map<String, String> fieldRows(String readme) {
        int from = readme.indexOf("### The report");
        assertTrue(from >= 0, "README has no \"### The report\" section");
        int to = readme.indexOf("\n#", from + 1);
        Map<String, String> rows = new LinkedHashMap<>();
        for (String line : readme.substring(from, to < 0 ? readme.length() : to).split("\n")) {
            if (line.startsWith("| `")) {
                int end = line.indexOf('`', 3);
                rows.put(line.substring(3, end), line);
            }
        }
        return rows;
    }

    /** Paths of the report's values: {@code pools[].inUse}, {@code routes[].fallbackReasons.afterReclaim.bytes}. */
    @SuppressWarnings("unchecked")
    static void flatten(String path, Object v, TreeSet<String> out) {
        if (v instanceof Map<?, ?> m) {
            for (Map.Entry<String, Object> e : ((Map<String, Object>) m).entrySet()) {
                flatten(path.isEmpty() ? e.getKey() : path + "." + e.getKey(), e.getValue(), out);
            }
        } else if (v instanceof List<?> l && !l.isEmpty() && (l.get(0) instanceof Map || l.get(0) instanceof List)) {
            for (Object o : l) {
                flatten(path + "[]", o, out);
            }
        } else {
            out.add(path);
        }
    }

    /**
     * A leaf has a row of its own, or its nearest ancestor below the report's top level has a row naming each of the
     * leaf's remaining path segments in backticks ({@code routes[].fallbackReasons} naming {@code afterReclaim} and
     * {@code bytes}).
     */
    static boolean documented(String leaf, Map<String, String> rows) {
        if (rows.containsKey(leaf)) {
            return true;
        }
        for (int dot = leaf.lastIndexOf('.'); dot > 0; dot = leaf.lastIndexOf('.', dot - 1)) {
            String ancestor = leaf.substring(0, dot);
            String row = rows.get(ancestor);
            if (row == null) {
                continue;
            }
            if (!ancestor.contains(".")) {
                return false;
            }
            for (String segment : leaf.substring(dot + 1).split("\\.")) {
                if (!row.contains("`" + segment.replace("[]", "") + "`")) {
                    return false;
                }
            }
            return true;
        }
        return false;
    }
}
