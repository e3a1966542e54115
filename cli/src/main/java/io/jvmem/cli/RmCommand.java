package io.jvmem.cli;

import io.jvmem.allocator.PoolException;
import io.jvmem.allocator.PoolFileInspector;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jvmem rm FILE}: removes a pool file. Refuses a file that is not a jvmem pool (no magic; {@code --force} removes
 * it anyway) and a pool a running program has open (its lock), like pmempool rm.
 */
@Command(name = "rm", description = "Remove a pool file (not one a running program has open).")
final class RmCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "the pool file")
    Path file;

    @Option(names = {"-f", "--force"}, description = "remove it even if it is not a jvmem pool")
    boolean force;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (!Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new Inspect.Refused(JvmemCli.CANNOT, file + ": no such file");
        }
        try (PoolFileInspector in = PoolFileInspector.open(file)) {
            if (!in.info().magic() && !force) {
                throw new Inspect.Refused(JvmemCli.NO, file + ": not a jvmem pool file (use --force to remove it anyway)");
            }
            Files.delete(file); // while our shared lock keeps a program from opening it meanwhile
        } catch (PoolException e) {
            switch (e.reason()) {
                case NOT_A_POOL, UNFORMATTED -> {
                    if (!force) {
                        throw new Inspect.Refused(JvmemCli.NO, file + ": " + e.getMessage() + " (use --force to remove it anyway)");
                    }
                    Files.delete(file);
                }
                default -> throw new Inspect.Refused(JvmemCli.CANNOT, file + ": " + e.getMessage() + " (" + e.reason() + ")");
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(file + ": removed");
        out.flush();
        return 0;
    }
}
