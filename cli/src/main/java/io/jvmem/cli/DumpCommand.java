package io.jvmem.cli;

import io.jvmem.allocator.PoolException;
import io.jvmem.allocator.PoolFileInspector;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jvmem dump FILE --root | --offset N [--length L]}: a block's bytes in hex and text (as {@code xxd}). Without
 * {@code --length}, the whole live block that starts there; with it, exactly those bytes of the file.
 */
@Command(name = "dump", description = "Hex dump of a block: the root's, or the one at an offset from the pool's base (read-only).")
final class DumpCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "the pool file")
    Path file;

    @ArgGroup(multiplicity = "1")
    Where where;

    static final class Where {
        @Option(names = "--root", description = "the root block") boolean root;

        @Option(names = "--offset", paramLabel = "N", description = "offset from the pool's base (decimal or 0x hex)")
        String offset;
    }

    @Option(names = "--length", paramLabel = "L", description = "bytes to dump (default: the live block's usable size)")
    Integer length;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (PoolFileInspector in = Inspect.open(file)) {
            long off;
            if (where.root) {
                off = in.rootOffset();
                if (off == 0) {
                    throw new Inspect.Refused(JvmemCli.NO, file + ": no root is set");
                }
            } else {
                off = where.offset.startsWith("0x") ? Long.parseUnsignedLong(where.offset.substring(2), 16)
                        : Long.parseLong(where.offset);
            }
            if (off < 0 || length != null && length < 1) { // usage errors (exit 2), not "nothing there" (exit 1)
                throw new Inspect.Refused(JvmemCli.CANNOT, "dump: " + (off < 0 ? "--offset must be 0 or more, not " + off
                        : "--length must be 1 or more, not " + length));
            }
            long n;
            if (length != null) {
                n = length;
            } else {
                try {
                    n = in.blockSize(off);
                } catch (PoolException e) {
                    throw new Inspect.Refused(JvmemCli.CANNOT, file + ": " + e.getMessage() + " (" + e.reason() + ")");
                }
                if (n < 0) {
                    throw new Inspect.Refused(JvmemCli.NO, file + ": no live block starts at offset " + off
                            + " (give --length to dump raw bytes)");
                }
            }
            byte[] bytes;
            try {
                bytes = in.read(off, Math.toIntExact(n));
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new Inspect.Refused(JvmemCli.NO, file + ": " + e.getMessage());
            }
            out.printf("block at offset %d (0x%x), %d bytes%n", off, off, bytes.length);
            hex(out, off, bytes);
            out.flush();
            return 0;
        }
    }

    static void hex(PrintWriter out, long base, byte[] b) {
        for (int i = 0; i < b.length; i += 16) {
            StringBuilder line = new StringBuilder(String.format("%08x: ", base + i));
            StringBuilder text = new StringBuilder();
            for (int j = 0; j < 16; j++) {
                if (i + j < b.length) {
                    int v = b[i + j] & 0xff;
                    line.append(String.format("%02x", v));
                    text.append(v >= 0x20 && v < 0x7f ? (char) v : '.');
                } else {
                    line.append("  ");
                }
                if (j % 2 == 1) {
                    line.append(' ');
                }
            }
            out.println(line.append(' ').append(text));
        }
    }
}
