package io.jvmem.allocator;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.text.MessageFormat;
import java.time.LocalDateTime;
import java.util.ResourceBundle;
import java.util.function.Supplier;

/**
 * The allocator's log: messages filtered by the {@link LogPolicy} level and handed to a {@link System.Logger}, the
 * platform's or one that appends to the policy's file. Reads no property itself: the policy is handed in (the
 * process's at first use, or {@link #install}). Thread-safe; while the level is 0 a call costs a volatile read.
 */
final class PoolLog {
    private static volatile PoolLog current;

    final int level;
    private final LogPolicy policy;
    private System.Logger sink; // made at the first message: level 0 never loads the platform's LoggerFinder

    private PoolLog(LogPolicy policy) {
        this.level = policy.level();
        this.policy = policy;
    }

    private synchronized System.Logger sink() {
        if (sink == null) {
            System.Logger s = null;
            if (policy.file().isPresent()) {
                Path p = policy.resolvedFile(ProcessHandle.current().pid()).orElseThrow();
                try {
                    s = new FileLogger(p);
                } catch (IOException e) {
                    System.err.println("jvmem: cannot open log file " + p + " (" + e + "); logging to the platform logger");
                }
            }
            sink = s != null ? s : System.getLogger("io.jvmem");
        }
        return sink;
    }

    static PoolLog get() {
        PoolLog l = current;
        if (l == null) {
            synchronized (PoolLog.class) {
                l = current;
                if (l == null) {
                    l = new PoolLog(LogPolicy.fromProcess());
                    current = l;
                }
            }
        }
        return l;
    }

    static synchronized void install(LogPolicy policy) {
        PoolLog old = current;
        current = new PoolLog(policy);
        if (old != null) {
            synchronized (old) {
                if (old.sink instanceof FileLogger f) {
                    f.close();
                }
            }
        }
    }

    /** Whether messages of {@code level} (1–4) are logged. */
    static boolean enabled(int level) {
        return get().level >= level;
    }

    /** Level 1: details of an error the caller also gets as a reason. */
    static void error(PoolErrorReason reason, String message) {
        PoolLog l = get();
        if (l.level >= 1 && l.policy.logsErrorsOf(reason)) {
            l.sink().log(System.Logger.Level.ERROR, reason + ": " + message);
        }
    }

    /** Level 2: a basic operation (a pool created, opened, closed). */
    static void trace(Supplier<String> message) {
        PoolLog l = get();
        if (l.level >= 2) {
            l.sink().log(System.Logger.Level.INFO, message.get());
        }
    }

    /** Level 3: verbose call tracing. */
    static void verbose(Supplier<String> message) {
        PoolLog l = get();
        if (l.level >= 3) {
            l.sink().log(System.Logger.Level.DEBUG, message.get());
        }
    }

    /** Level 4: voluminous tracing. */
    static void debug(Supplier<String> message) {
        PoolLog l = get();
        if (l.level >= 4) {
            l.sink().log(System.Logger.Level.TRACE, message.get());
        }
    }

    /** One line per message, {@code <time> <LEVEL> jvmem: <message>}, appended and flushed at once. */
    static final class FileLogger implements System.Logger {
        private final Writer out;

        FileLogger(Path path) throws IOException {
            // a FIFO with no reader would block the open (and the pool's creation) for ever; a device is no log file
            if (Files.exists(path) && !Files.isRegularFile(path)) {
                throw new IOException("not a regular file (a FIFO, socket or device)");
            }
            out = Files.newBufferedWriter(path, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        }

        @Override
        public String getName() {
            return "io.jvmem";
        }

        @Override
        public boolean isLoggable(Level level) {
            return level != Level.OFF;
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            write(level, msg + (thrown == null ? "" : " (" + thrown + ")"));
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            write(level, params == null || params.length == 0 ? format : MessageFormat.format(format, params));
        }

        private synchronized void write(Level level, String msg) {
            try {
                out.write(LocalDateTime.now() + " " + level.getName() + " jvmem: " + msg + "\n");
                out.flush();
            } catch (IOException e) {
                // a full disk must not fail an allocation: the line is dropped
            }
        }

        synchronized void close() {
            try {
                out.close();
            } catch (IOException e) {
                // nothing to keep
            }
        }
    }
}
