package io.jvmem.agent;

/** A configuration problem, rendered as one line: {@code <file>:<line>: <key>: <reason>}. */
final class ConfigException extends RuntimeException {
    ConfigException(String file, int line, String key, String reason) {
        super(line(file, line, key, reason));
    }

    /** The one-line form, {@code <file>:<line>: <key>: <reason>}, also for warnings about a config line. */
    static String line(String file, int line, String key, String reason) {
        return file + (line > 0 ? ":" + line : "") + ": " + (key == null ? "" : key + ": ") + reason;
    }

    ConfigException(String message) {
        super(message);
    }
}
