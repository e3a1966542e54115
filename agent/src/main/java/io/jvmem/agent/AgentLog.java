package io.jvmem.agent;

import io.jvmem.agent.AgentConfig.LogLevel;
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

    private void say(LogLevel l, String message) {
        if (enabled(l)) {
            System.err.println("jvmem: " + message);
        }
    }
}
