package io.jvmem.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Runs one of the test programs in a fresh JVM (the JDK that runs the tests) under the jvmem agent, with a
 * config file written for that run, and collects its exit code, output and report.
 *
 * <p>Each run gets a directory {@code target/it-runs/<name>} holding {@code jvmem.properties}, {@code stdout.txt},
 * {@code stderr.txt}, {@code command.txt} and {@code report.json}, left there for a look after a failure; the pool
 * files go into a fresh directory under /dev/shm (or java.io.tmpdir) that is removed after the run.
 */
final class Forked {
    static final long TIMEOUT_SECONDS = 60;

    /** JDK 24+ warn about these without the flags; the child gets them so any WARNING left is someone else's. */
    static final List<String> QUIET_JDK_FLAGS = List.of(
            "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow");

    private Forked() {
    }

    /** The agent jar, which must exist; the message says how to build it. */
    static Path agentJar() {
        String prop = System.getProperty("jvmem.agent.jar");
        assertTrue(prop != null && !prop.isBlank(),
                "system property jvmem.agent.jar is not set: run these tests through Maven "
                        + "(mvn -pl integration-tests -am verify), which points it at agent/target/jvmem-agent.jar");
        Path jar = Paths.get(prop).toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(jar),
                "jvmem agent jar not found at " + jar + ": the agent module must build it "
                        + "(mvn -B -ntp -pl agent -am package -DskipTests) before the integration tests run");
        return jar;
    }

    /** target/classes of this module plus its runtime dependencies (Netty, H2): never the agent's classes. */
    static String programClasspath() {
        String classes = System.getProperty("jvmem.it.classes");
        String file = System.getProperty("jvmem.it.classpath.file");
        assertTrue(classes != null && file != null,
                "system properties jvmem.it.classes / jvmem.it.classpath.file are not set: run through Maven");
        String deps;
        try {
            deps = Files.readString(Paths.get(file), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            throw new AssertionError("cannot read the program classpath from " + file
                    + " (written by maven-dependency-plugin build-classpath)", e);
        }
        String cp = deps.isEmpty() ? classes : classes + File.pathSeparator + deps;
        for (String entry : cp.split(File.pathSeparator)) {
            assertTrue(!entry.contains("jvmem-agent") && !entry.contains("jvmem-allocator")
                    && !entry.replace('\\', '/').contains("/agent/target"),
                    "the agent's classes must not be on the program classpath: " + entry);
        }
        return cp;
    }

    /** Netty 4.2's jars, copied by the build into {@code target/netty42} (see the pom's {@code netty42-jars}). */
    static List<String> netty42Jars() {
        String prop = System.getProperty("jvmem.it.netty42.dir");
        assertTrue(prop != null && !prop.isBlank(), "system property jvmem.it.netty42.dir is not set: run through Maven");
        List<String> jars;
        try (Stream<Path> s = Files.list(Paths.get(prop))) {
            jars = s.map(Path::toString).filter(n -> n.endsWith(".jar")).sorted().toList();
        } catch (IOException e) {
            throw new AssertionError("cannot list Netty 4.2's jars in " + prop
                    + " (copied there by maven-dependency-plugin, execution netty42-jars)", e);
        }
        assertEquals(4, jars.size(), "expected netty-common, -buffer, -resolver and -transport 4.2 in " + prop + ": " + jars);
        return jars;
    }

    /** {@code cp} without Netty's jars (the module's Netty 4.1). */
    static String withoutNetty(String cp) {
        return Arrays.stream(cp.split(File.pathSeparator))
                .filter(e -> !Paths.get(e).getFileName().toString().startsWith("netty-"))
                .collect(Collectors.joining(File.pathSeparator));
    }

    static Path workRoot() {
        String p = System.getProperty("jvmem.it.workdir", "target/it-runs");
        return Paths.get(p).toAbsolutePath();
    }

    static Run prepare(String name) {
        try {
            Path dir = workRoot().resolve(name);
            deleteTree(dir);
            Files.createDirectories(dir);
            Path shm = Paths.get("/dev/shm");
            Path base = Files.isDirectory(shm) && Files.isWritable(shm) ? shm
                    : Paths.get(System.getProperty("java.io.tmpdir"));
            Path poolDir = Files.createTempDirectory(base, "jvmem-it-" + name + "-");
            return new Run(name, dir, poolDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** One forked run being set up: a config, JVM flags, then {@link #exec}. */
    static final class Run {
        final String name;
        final Path dir;
        final Path poolDir;
        final Path report;
        final Map<String, String> config = new LinkedHashMap<>();
        final List<String> jvmArgs = new ArrayList<>();
        /** JVM options before jvmem's {@code -javaagent} (another agent that starts first). */
        final List<String> firstArgs = new ArrayList<>();
        /** Without {@code --sun-misc-unsafe-memory-access=allow}: the JDK's default (warn on first use). */
        private boolean defaultUnsafeAccess;
        /** No {@code -javaagent} for jvmem: the program attaches it itself ({@link #lateAttach}). */
        private boolean lateAttach;
        private NettyJars netty = NettyJars.CLASS_PATH_41;

        Run(String name, Path dir, Path poolDir) {
            this.name = name;
            this.dir = dir;
            this.poolDir = poolDir;
            this.report = dir.resolve("report.json");
            config.put("report", report.toString());
        }

        Run set(String key, Object value) {
            config.put(key, String.valueOf(value));
            return this;
        }

        /** A pool file in this run's pool directory (a cto pool's path names its file). */
        Run ctoPool(String pool, String size) {
            return set("pool." + pool + ".kind", "cto")
                    .set("pool." + pool + ".path", poolDir.resolve(pool + ".pool"))
                    .set("pool." + pool + ".size", size);
        }

        /** A volatile pool whose temp file goes into this run's pool directory. */
        Run pool(String pool, String kind, String size) {
            return set("pool." + pool + ".kind", kind)
                    .set("pool." + pool + ".path", poolDir)
                    .set("pool." + pool + ".size", size);
        }

        Run route(String route, String pool, String include) {
            return set("route." + route + ".include", include).set("route." + route + ".pool", pool);
        }

        /** Leaves {@code --sun-misc-unsafe-memory-access} at the JDK's default, as a user who sets nothing has it. */
        Run defaultUnsafeMemoryAccess() {
            defaultUnsafeAccess = true;
            return this;
        }

        /**
         * jvmem is not started with the JVM: the program loads it later ({@code VirtualMachine.loadAgent}) with
         * {@link #agentJar()} and {@link #configFile()}, which self-attach allows.
         */
        Run lateAttach() {
            lateAttach = true;
            return this;
        }

        /** The config file this run writes (given to {@code -javaagent}, or to a late attach). */
        Path configFile() {
            return dir.resolve("jvmem.properties");
        }

        /** Which Netty the program gets, and where. */
        Run netty(NettyJars jars) {
            netty = jars;
            return this;
        }

        Run jvm(String... args) {
            jvmArgs.addAll(Arrays.asList(args));
            return this;
        }

        /** Options placed before jvmem's {@code -javaagent}, so that an agent they name starts before it. */
        Run first(String... args) {
            firstArgs.addAll(Arrays.asList(args));
            return this;
        }

        Result exec(Class<?> main, String... args) {
            try {
                return execIn(main, args);
            } finally {
                try {
                    deleteTree(poolDir);
                } catch (IOException e) {
                    System.out.println("[" + name + "] could not remove " + poolDir + ": " + e);
                }
            }
        }

        private Result execIn(Class<?> main, String... args) {
            Path agent = agentJar();
            String cp = programClasspath();
            List<String> nettyArgs = new ArrayList<>();
            if (netty != NettyJars.CLASS_PATH_41) {
                String jars = String.join(File.pathSeparator, netty42Jars());
                cp = withoutNetty(cp);
                if (netty == NettyJars.CLASS_PATH_42) {
                    cp = cp + File.pathSeparator + jars;
                } else {
                    nettyArgs.addAll(List.of("--module-path", jars, "--add-modules", "io.netty.transport"));
                }
            }
            try {
                Path props = configFile();
                StringBuilder text = new StringBuilder("# written by " + Forked.class.getName() + " for " + name + "\n");
                config.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
                Files.writeString(props, text, StandardCharsets.UTF_8);

                List<String> cmd = new ArrayList<>();
                cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
                for (String flag : QUIET_JDK_FLAGS) {
                    if (!(defaultUnsafeAccess && flag.startsWith("--sun-misc-unsafe-memory-access"))) {
                        cmd.add(flag);
                    }
                }
                cmd.add("-Xmx512m");
                cmd.addAll(firstArgs);
                if (lateAttach) {
                    cmd.add("-Djdk.attach.allowAttachSelf=true");
                } else {
                    cmd.add("-javaagent:" + agent + "=" + props);
                }
                cmd.addAll(jvmArgs);
                cmd.addAll(nettyArgs);
                cmd.add("-cp");
                cmd.add(cp);
                cmd.add(main.getName());
                cmd.addAll(Arrays.asList(args));
                Files.writeString(dir.resolve("command.txt"), String.join(" ", cmd) + "\n", StandardCharsets.UTF_8);

                Path out = dir.resolve("stdout.txt");
                Path err = dir.resolve("stderr.txt");
                ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
                        .redirectOutput(out.toFile()).redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
                long t0 = System.nanoTime();
                Process p = pb.start();
                boolean finished = p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                if (!finished) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    p.waitFor(10, TimeUnit.SECONDS);
                }
                long millis = (System.nanoTime() - t0) / 1_000_000;
                List<String> leftover;
                try (Stream<Path> s = Files.list(poolDir)) {
                    leftover = s.map(x -> x.getFileName().toString()).sorted().toList();
                }
                Result r = new Result(this, cmd, finished ? p.exitValue() : -1, !finished, millis,
                        Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8),
                        leftover);
                System.out.println("[" + name + "] exit=" + r.exitCode + " in " + millis + " ms; pool files left: "
                        + leftover + "; stdout: " + r.stdout.strip().lines().reduce((a, b) -> b).orElse(""));
                return r;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }

    /** The Netty a forked program runs with. */
    enum NettyJars {
        /** The module's own dependency (4.1), on the class path. */
        CLASS_PATH_41,
        /** Netty 4.2 on the class path instead: Netty's code is in the unnamed module, as most applications have it. */
        CLASS_PATH_42,
        /**
         * Netty 4.2 as named modules on the module path ({@code io.netty.transport} and what it requires), the program
         * on the class path: {@code --enable-native-access=ALL-UNNAMED} then leaves Netty without native access.
         */
        MODULE_PATH_42
    }

    /** What a forked run did. */
    record Result(Run run, List<String> command, int exitCode, boolean timedOut, long millis, String stdout,
                  String stderr, List<String> poolFilesLeft) {

        String describe() {
            return "\n--- run " + run.name + " (" + millis + " ms, exit " + exitCode + (timedOut ? ", TIMED OUT" : "")
                    + ")\n--- command: " + String.join(" ", command)
                    + "\n--- config:\n" + run.config.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                    .collect(Collectors.joining("\n"))
                    + "\n--- stdout:\n" + tail(stdout) + "\n--- stderr:\n" + tail(stderr) + "\n---";
        }

        private static String tail(String s) {
            return s.length() <= 8000 ? s : "[...]\n" + s.substring(s.length() - 8000);
        }

        /** Exit code 0 and exactly one line starting with {@code okPrefix}; returns that line. */
        String assertOk(String okPrefix) {
            if (timedOut) {
                fail("the program did not finish within " + TIMEOUT_SECONDS + " s" + describe());
            }
            assertEquals(0, exitCode, "the program failed" + describe());
            List<String> ok = stdout.lines().filter(l -> l.startsWith(okPrefix)).toList();
            assertEquals(1, ok.size(), "expected one line starting with \"" + okPrefix + "\"" + describe());
            return ok.get(0);
        }

        /**
         * No line of stdout or stderr mentions WARNING (the JDK's own are silenced by {@link #QUIET_JDK_FLAGS}), and
         * the agent said nothing: at its default log level it writes only warnings and errors, as "jvmem: ..." lines.
         */
        void assertNoWarnings() {
            List<String> warnings = warningLines();
            assertTrue(warnings.isEmpty(), "unexpected warnings (WARNING lines, or the agent's own \"jvmem:\" lines): " + warnings + describe());
        }

        /** The lines of stdout and stderr that {@link #assertNoWarnings} objects to, in order. */
        List<String> warningLines() {
            return Stream.concat(stdout.lines(), stderr.lines())
                    .filter(l -> l.contains("WARNING") || l.startsWith("jvmem:")).toList();
        }

        /** No warnings, and the agent (if its report says so) rewrote every class it tried to. */
        void assertClean() {
            assertNoWarnings();
            if (Files.isRegularFile(run.report)) {
                report().assertNoRewriteFailures();
            }
        }

        Report report() {
            return Report.read(run.report, describe());
        }

        /** The number after {@code key=} in a program's OK line ({@code "X OK a=1 b=2"}). */
        long okValue(String okLine, String key) {
            for (String word : okLine.split(" ")) {
                if (word.startsWith(key + "=")) {
                    try {
                        return Long.parseLong(word.substring(key.length() + 1));
                    } catch (NumberFormatException e) {
                        return fail("\"" + key + "\" in the OK line is not a number: " + okLine + describe());
                    }
                }
            }
            return fail("no \"" + key + "=\" in the OK line: " + okLine + describe());
        }
    }
}
