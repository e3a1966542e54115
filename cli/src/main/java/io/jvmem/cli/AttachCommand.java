package io.jvmem.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
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
        if (!Files.isRegularFile(config)) {
            throw new Inspect.Refused(JvmemCli.CANNOT, config + ": no such config file");
        }
        try {
            ByteBuddyAgent.attach(jar.toFile(), Long.toString(pid), config.toAbsolutePath().toString());
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
