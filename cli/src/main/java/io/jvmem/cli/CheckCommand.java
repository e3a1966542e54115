package io.jvmem.cli;

import io.jvmem.allocator.PoolCheck;
import io.jvmem.allocator.PoolFileInspector;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jvmem check FILE}: exit 0 consistent, 1 inconsistent (with the problems), 2 cannot check. */
@Command(name = "check", description = "Check a pool file: exit 0 consistent, 1 inconsistent, 2 cannot check (read-only).")
final class CheckCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "the pool file")
    Path file;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PoolCheck c;
        try (PoolFileInspector in = Inspect.open(file)) {
            c = in.check();
        }
        out.println(file + ": " + switch (c.status()) {
            case CONSISTENT -> "consistent";
            case INCONSISTENT -> "inconsistent";
            case NOT_CHECKED -> "not checked (" + c.reason() + ")";
        });
        for (String p : c.problems()) {
            out.println("  " + p);
        }
        out.flush();
        return switch (c.status()) {
            case CONSISTENT -> 0;
            case INCONSISTENT -> JvmemCli.NO;
            case NOT_CHECKED -> JvmemCli.CANNOT;
        };
    }
}
