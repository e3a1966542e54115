package io.jvmem.allocator;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * How much jvmem's allocator logs, and where: libpmemcto's {@code PMEMCTO_LOG_LEVEL} and {@code PMEMCTO_LOG_FILE}
 * (libpmemcto(7), "DEBUGGING AND ERROR HANDLING"), or their Java-side equivalents, the system properties
 * {@code jvmem.log.level} and {@code jvmem.log.file} (a property wins over the environment variable).
 *
 * <ul>
 *   <li>level 0 (the default): nothing is logged; errors are still returned as 0 with
 *       {@link MemoryPool#lastErrorReason()} and {@link MemoryPool#lastError()} (pmemcto_errormsg);</li>
 *   <li>1: details of every error, logged at {@link System.Logger.Level#ERROR};</li>
 *   <li>2: a trace of basic operations (pools created, opened, closed) at {@link System.Logger.Level#INFO};</li>
 *   <li>3: verbose tracing at {@link System.Logger.Level#DEBUG}: waits for memory, and one line per call of
 *       {@code mallocArray}, {@code zfree}, {@code reallocf}, {@code wcsdup} and the calls that take
 *       {@link MallocFlags} (the plain malloc family is not traced: its fast paths stay as they are);</li>
 *   <li>4: voluminous tracing at {@link System.Logger.Level#TRACE}: today the same as 3.</li>
 * </ul>
 * Without a file, messages go to the platform logger {@code System.getLogger("io.jvmem")}, so an application's own
 * framework (JUL by default; SLF4J, Log4j through their System.LoggerFinder) receives them and applies its own
 * thresholds too. With a file, lines are appended to it instead; a name ending in {@code -} gets the process id
 * appended, as libpmemcto does. Thread-safe (immutable).
 */
public final class LogPolicy {
    /** The property for the level (0–4), the Java-side PMEMCTO_LOG_LEVEL. */
    public static final String LEVEL_PROPERTY = "jvmem.log.level";
    /** The property for the log file, the Java-side PMEMCTO_LOG_FILE. */
    public static final String FILE_PROPERTY = "jvmem.log.file";
    static final String LEVEL_ENV = "PMEMCTO_LOG_LEVEL";
    static final String FILE_ENV = "PMEMCTO_LOG_FILE";

    /** Level 0, the platform logger: nothing logged. */
    public static final LogPolicy OFF = new LogPolicy(0, null, false);

    private static volatile LogPolicy fromProcess;

    private final int level;
    private final String file;
    private final boolean levelGiven;
    /** Reasons whose level-1 error details are not logged ({@link #withoutErrorDetailsFor}). */
    private final java.util.Set<PoolErrorReason> quiet;

    private LogPolicy(int level, String file, boolean levelGiven) {
        this(level, file, levelGiven, java.util.Set.of());
    }

    private LogPolicy(int level, String file, boolean levelGiven, java.util.Set<PoolErrorReason> quiet) {
        this.level = level;
        this.file = file;
        this.levelGiven = levelGiven;
        this.quiet = quiet;
    }

    /**
     * A policy of {@code level} (0–4) writing to {@code file} (null: the platform logger; a trailing {@code -} gets
     * the PID). Throws IllegalArgumentException for a level outside 0–4.
     */
    public static LogPolicy of(int level, String file) {
        if (level < 0 || level > 4) {
            throw new IllegalArgumentException("log level must be 0 to 4: " + level);
        }
        return new LogPolicy(level, file == null || file.isEmpty() ? null : file, true);
    }

    /**
     * The policy given by these environment variables and system properties (properties win). A level that is not
     * a number from 0 to 4 is ignored with a line on stderr, as a bad PMEMCTO_LOG_LEVEL is by the library.
     */
    public static LogPolicy from(Map<String, String> env, Properties props) {
        String lv = props.getProperty(LEVEL_PROPERTY, env.get(LEVEL_ENV));
        String f = props.getProperty(FILE_PROPERTY, env.get(FILE_ENV));
        int level = 0;
        boolean given = false;
        if (lv != null && !lv.isBlank()) {
            try {
                level = Integer.parseInt(lv.trim());
                given = level >= 0 && level <= 4;
            } catch (NumberFormatException e) {
                given = false;
            }
            if (!given) {
                System.err.println("jvmem: ignoring log level '" + lv + "' (" + LEVEL_PROPERTY + " / " + LEVEL_ENV
                        + " take 0 to 4)");
                level = 0;
            }
        }
        return new LogPolicy(level, f == null || f.isBlank() ? null : f.trim(), given);
    }

    /** This process's policy: the environment and system properties, read once, at the first call. */
    public static LogPolicy fromProcess() {
        LogPolicy p = fromProcess;
        if (p == null) {
            p = from(System.getenv(), System.getProperties());
            fromProcess = p;
        }
        return p;
    }

    /** Makes this policy the one jvmem's allocator logs by (replacing the one from the process). */
    public void install() {
        PoolLog.install(this);
    }

    /** 0 (nothing) to 4 (everything). */
    public int level() {
        return level;
    }

    /** Whether the level was given (by the variable, the property or {@link #of}), not the default 0. */
    public boolean levelGiven() {
        return levelGiven;
    }

    /** The file name as given (a trailing {@code -} not yet expanded); empty for the platform logger. */
    public Optional<String> file() {
        return Optional.ofNullable(file);
    }

    /** The file the lines go to: the name, with the process id appended when it ends in {@code -}. */
    public Optional<Path> resolvedFile(long pid) {
        if (file == null) {
            return Optional.empty();
        }
        return Optional.of(Path.of(file.endsWith("-") ? file + pid : file));
    }

    /** A copy with {@code level} (0–4); the file kept. */
    public LogPolicy withLevel(int level) {
        LogPolicy p = of(level, file);
        return quiet.isEmpty() ? p : new LogPolicy(p.level, p.file, true, quiet);
    }

    /**
     * This policy, except that errors of these reasons are not logged at level 1 (they are still returned as 0 with
     * {@link MemoryPool#lastErrorReason()}). For a caller that reports them itself: the agent, whose fallback routes
     * meet a full pool ({@link PoolErrorReason#OUT_OF_MEMORY}) again and again and say so once, at {@code log=info}.
     */
    public LogPolicy withoutErrorDetailsFor(PoolErrorReason... reasons) {
        java.util.EnumSet<PoolErrorReason> q = java.util.EnumSet.noneOf(PoolErrorReason.class);
        q.addAll(quiet);
        q.addAll(java.util.List.of(reasons));
        return new LogPolicy(level, file, levelGiven, java.util.Set.copyOf(q));
    }

    /** Whether an error of {@code reason} is logged at level 1 and above. */
    public boolean logsErrorsOf(PoolErrorReason reason) {
        return !quiet.contains(reason);
    }

    @Override
    public String toString() {
        return "LogPolicy[level=" + level + (file == null ? "" : ", file=" + file)
                + (quiet.isEmpty() ? "" : ", no error details for " + quiet) + "]";
    }
}
