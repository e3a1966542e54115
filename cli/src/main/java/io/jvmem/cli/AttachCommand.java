package io.jvmem.cli;

import com.sun.tools.attach.VirtualMachine;
import java.io.PrintWriter;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Callable;
import net.bytebuddy.agent.ByteBuddyAgent;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jvmem attach --pid N CONFIG}: loads the jvmem agent into a running JVM (late attach), with ByteBuddy's attacher. */
@Command(name = "attach", description = "Load the jvmem agent into a running JVM with the given config (late attach).")
final class AttachCommand implements Callable<Integer> {
    @Option(names = "--pid", required = true, paramLabel = "N", description = "the JVM's process id")
    long pid;

    @Parameters(paramLabel = "CONFIG", description = "the agent's config file")
    Path config;

    @Option(names = "--agent", paramLabel = "JAR", description = "the agent jar (default: agent/target/jvmem-agent.jar "
            + "next to this tool, or the system property jvmem.agent.jar)")
    Path agent;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Path jar = agent != null ? agent : defaultAgent();
        if (jar == null || !Files.isRegularFile(jar)) {
            throw new Inspect.Refused(JvmemCli.CANNOT, "no agent jar at " + jar + " (build it, or give --agent)");
        }
        if (Files.isDirectory(config)) {
            throw new Inspect.Refused(JvmemCli.CANNOT, config + ": a directory, not a config file");
        }
        if (!Files.isRegularFile(config)) {
            throw new Inspect.Refused(JvmemCli.CANNOT, config + ": no such config file");
        }
        String configPath = config.toAbsolutePath().toString();
        ConfigCheck check = checkConfig(jar, configPath);
        if (check.error() != null) { // the agent would refuse it in the target, where only that process's stderr says why
            throw new Inspect.Refused(JvmemCli.CANNOT, check.error() + " (nothing was attached to process " + pid + ")");
        }
        for (Object warning : check.warnings()) {
            System.err.println("jvmem: " + warning); // the target prints it too, on its own standard error
        }
        checkTarget();
        try {
            ByteBuddyAgent.attach(jar.toFile(), Long.toString(pid), configPath);
        } catch (RuntimeException e) {
            Throwable c = e;
            while (c.getCause() != null && c.getCause() != c) {
                c = c.getCause(); // ByteBuddy wraps the attach API's exception in reflection's
            }
            if (c.getClass().getSimpleName().equals("AgentInitializationException")) {
                // the attach API carries no message back: the agent printed its one line in the target process
                throw new Inspect.Refused(JvmemCli.CANNOT, "the agent refused to start in process " + pid
                        + ": the reason (for a config error, its file:line:key) is on that process's standard error");
            }
            throw new Inspect.Refused(JvmemCli.CANNOT, "cannot attach to process " + pid + ": " + c);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println("jvmem: agent loaded into process " + pid + " with " + config);
        out.flush();
        return 0;
    }

    /**
     * The target's JDK and whether it runs the agent already, from its system properties: on an older JDK the agent
     * only prints a line there, and a second start is refused there, and in both cases the attach itself succeeds.
     */
    private void checkTarget() {
        Properties props;
        try {
            VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
            try {
                props = vm.getSystemProperties();
            } finally {
                vm.detach();
            }
        } catch (Exception e) {
            throw new Inspect.Refused(JvmemCli.CANNOT, "cannot attach to process " + pid + ": " + e.getMessage());
        }
        String running = props.getProperty(RUNNING_PROPERTY);
        if (running != null) {
            throw new Inspect.Refused(JvmemCli.CANNOT, "the jvmem agent already runs in process " + pid + " (config "
                    + running + "); it starts once per JVM");
        }
        String spec = props.getProperty("java.specification.version", "");
        int feature;
        try {
            feature = Integer.parseInt(spec.startsWith("1.") ? spec.substring(2) : spec);
        } catch (NumberFormatException e) {
            feature = 0;
        }
        if (feature < 22) {
            throw new Inspect.Refused(JvmemCli.CANNOT, "process " + pid + " runs Java " + props.getProperty("java.version")
                    + "; the jvmem agent needs JDK 22 or later (nothing was attached)");
        }
    }

    /** What the agent jar's config reader says of a config: its error line or null, and its warnings. */
    private record ConfigCheck(String error, java.util.List<?> warnings) {
    }

    /**
     * What the agent jar's own config reader says of {@code path}, from one load of the jar: an agent jar without the
     * check (older) accepts it with no warnings, and the target checks, as before.
     */
    private ConfigCheck checkConfig(Path jar, String path) {
        try (URLClassLoader l = new URLClassLoader(new URL[] {jar.toUri().toURL()}, ClassLoader.getPlatformClassLoader())) {
            Class<?> jvmem = l.loadClass("io.jvmem.agent.Jvmem");
            String cwd = targetWorkingDir();
            Object r = cwd == null ? jvmem.getMethod("checkConfig", String.class).invoke(null, path)
                    : jvmem.getMethod("checkConfig", String.class, String.class).invoke(null, path, cwd);
            if (r != null) {
                return new ConfigCheck(r.toString(), java.util.List.of()); // printed with "jvmem: " in front, as every refusal
            }
            return new ConfigCheck(null, warnings(jvmem, path));
        } catch (ReflectiveOperationException | java.io.IOException | LinkageError e) {
            return new ConfigCheck(null, java.util.List.of());
        }
    }

    /** What the agent's config reader warns of in {@code path} (an accepted config); empty for an older jar. */
    private static java.util.List<?> warnings(Class<?> jvmem, String path) {
        try {
            return jvmem.getMethod("configWarnings", String.class).invoke(null, path) instanceof java.util.List<?> w ? w
                    : java.util.List.of();
        } catch (ReflectiveOperationException | LinkageError e) {
            return java.util.List.of(); // the target prints them, as before
        }
    }

    /**
     * The target's working directory (Linux: /proc/PID/cwd), against which the agent there resolves a relative report
     * path; null where it cannot be read (another user's process), and the check then uses this one's.
     */
    private String targetWorkingDir() {
        try {
            return Path.of("/proc", Long.toString(pid), "cwd").toRealPath().toString();
        } catch (java.io.IOException | SecurityException e) {
            return null;
        }
    }

    /** {@code io.jvmem.agent.Jvmem.RUNNING_PROPERTY}, by value: the agent's classes are not on this tool's class path. */
    static final String RUNNING_PROPERTY = "io.jvmem.agent.config";

    private static Path defaultAgent() {
        String p = System.getProperty("jvmem.agent.jar");
        if (p != null) {
            return Path.of(p);
        }
        try {
            Path self = Path.of(AttachCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return self.getParent().resolve("../../agent/target/jvmem-agent.jar").normalize(); // cli/target/jvmem-cli.jar
        } catch (Exception e) {
            return null;
        }
    }

}
