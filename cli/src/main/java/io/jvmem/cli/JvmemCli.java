package io.jvmem.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code jvmem}: pool files and running JVMs from the command line, after pmempool. Every verb but {@code create}
 * and {@code rm} is read-only: files are read with pread and never marked open, so a pool left open by a crash can be
 * inspected unchanged.
 *
 * <p>Exit codes: 0 success (check: consistent); 1 the answer is no (check: inconsistent; dump: no block there; rm:
 * not a pool; create: exists); 2 the verb could not run (unreadable or missing file, no such process, bad usage).
 */
@Command(name = "jvmem", mixinStandardHelpOptions = true, version = "jvmem 0.1.0",
        description = "Inspect, check, dump, create and remove jvmem pool files; show a running JVM's pools; load the agent.",
        subcommands = {InfoCommand.class, CheckCommand.class, StatsCommand.class, DumpCommand.class, CreateCommand.class,
                RmCommand.class, AttachCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success; check: consistent", "1:check: inconsistent; dump: no live block there; create: the file "
                + "exists; rm: not a pool file", "2:could not run: unreadable or missing file, a pool open in a running "
                + "program (rm), no such process, bad usage"})
public final class JvmemCli implements Runnable {
    /** The verb could not run. */
    static final int CANNOT = 2;
    /** The answer is no. */
    static final int NO = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a verb is needed");
    }

    /** The command line, with usage errors exiting 2 and every failure reported in one line. */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new JvmemCli());
        cl.setExecutionExceptionHandler((e, cmd, parse) -> {
            cmd.getErr().println("jvmem: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            return e instanceof Inspect.Refused r ? r.exit : CANNOT;
        });
        cl.setParameterExceptionHandler((e, args) -> {
            CommandLine c = e.getCommandLine();
            c.getErr().println("jvmem: " + e.getMessage());
            c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help'.");
            return CANNOT;
        });
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
