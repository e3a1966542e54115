package io.jvmem.cli;

import io.jvmem.allocator.PoolException;
import io.jvmem.allocator.PoolFileInspector;
import java.nio.file.Path;

/** Opens a pool file read-only, or says in one line why not (exit 2). */
final class Inspect {
    private Inspect() {
    }

    static PoolFileInspector open(Path file) {
        try {
            return PoolFileInspector.open(file);
        } catch (PoolException e) {
            throw new Refused(JvmemCli.CANNOT, file + ": " + e.getMessage() + " (" + e.reason() + ")");
        }
    }

    /** A verb's answer other than success, with its exit code and one line for stderr. */
    static final class Refused extends RuntimeException {
        final int exit;

        Refused(int exit, String message) {
            super(message, null, false, false);
            this.exit = exit;
        }
    }
}
