package io.jvmem.agent;

import io.jvmem.agent.AgentConfig.LogLevel;
import io.jvmem.allocator.LogPolicy;
import io.jvmem.allocator.PoolErrorReason;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** One-line messages on stderr, prefixed {@code jvmem:}, filtered by the configured level; "once" messages by key. */
final class AgentLog {
    private final LogLevel level;
    private final Set<String> said = ConcurrentHashMap.newKeySet();

    AgentLog(LogLevel level) {
        this.level = level;
    }

    boolean enabled(LogLevel l) {
        return level != LogLevel.QUIET && level.compareTo(l) >= 0;
    }

    void warn(String message) {
        say(LogLevel.WARN, message);
    }

    void info(String message) {
        say(LogLevel.INFO, message);
    }

    void debug(String message) {
        say(LogLevel.DEBUG, message);
    }

    void onceWarn(String key, String message) {
        if (enabled(LogLevel.WARN) && said.add(key)) {
            warn(message);
        }
    }

    /**
     * The agent's {@code log} key drives the allocator's logger ({@link LogPolicy}) unless PMEMCTO_LOG_LEVEL or
     * jvmem.log.level gives its level: quiet and warn 0 (the agent's own lines report exhaustion, once), info 2 (error
     * details, except a full pool's or a too large request's, which the agent reports, and pools created), debug 3 (verbose tracing, every
     * error). The allocator's messages go to the platform logger, or to
     * jvmem.log.file / PMEMCTO_LOG_FILE; the agent's own lines stay on stderr as {@code jvmem: ...}.
     */
    void driveAllocatorLog() {
        LogPolicy fromProcess = LogPolicy.fromProcess();
        int lv = switch (level) {
            case QUIET, WARN -> 0;
            case INFO -> 2;
            case DEBUG -> 3;
        };
        if (!fromProcess.levelGiven() && lv > 0) {
            LogPolicy p = fromProcess.withLevel(lv);
            // a full pool: the agent says so itself, once per route, and sums it up at exit; the allocator's detail on
            // every request of a fallback route drowned everything else at info (56 records for 25 fallbacks)
            (level == LogLevel.INFO ? p.withoutErrorDetailsFor(PoolErrorReason.OUT_OF_MEMORY, PoolErrorReason.NO_SPACE,
                    PoolErrorReason.TOO_LARGE, PoolErrorReason.MAX_SIZE) : p).install();
        }
    }

    private void say(LogLevel l, String message) {
        if (enabled(l)) {
            System.err.println("jvmem: " + message);
        }
    }
}
