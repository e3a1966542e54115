package io.jvmem.cli;

import io.jvmem.allocator.CtoPool;
import io.jvmem.allocator.PoolErrorReason;
import io.jvmem.allocator.PoolException;
import io.jvmem.allocator.PoolOptions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jvmem create FILE --size S [--layout L] [--mode 0600]}: a new, empty, cleanly closed cto pool file. */
@Command(name = "create", description = "Create a close-to-open pool file, empty and closed cleanly.")
final class CreateCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "the pool file to make (must not exist)")
    Path file;

    @Option(names = "--size", required = true, paramLabel = "S", description = "bytes, with k/m/g/t suffixes (at least 16m)")
    String size;

    @Option(names = "--layout", paramLabel = "L", description = "layout name (default: the file's name)")
    String layout;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "0600", description = "octal permissions (default 0600)")
    String mode;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        String l = layout != null ? layout : file.getFileName().toString();
        try {
            CtoPool.create(file, l, Sizes.parse(size), Integer.parseInt(mode, 8), PoolOptions.DEFAULT).close();
        } catch (PoolException e) {
            throw new Inspect.Refused(e.reason() == PoolErrorReason.EXISTS ? JvmemCli.NO : JvmemCli.CANNOT,
                    file + ": " + e.getMessage() + " (" + e.reason() + ")");
        } catch (NumberFormatException e) {
            throw new Inspect.Refused(JvmemCli.CANNOT, "--mode " + mode + " is not an octal mode");
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(file + ": created, layout " + l);
        out.flush();
        return 0;
    }
}
