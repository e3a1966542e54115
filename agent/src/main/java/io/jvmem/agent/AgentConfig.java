package io.jvmem.agent;

import io.jvmem.allocator.NumaPolicy;
import io.jvmem.allocator.PoolOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The agent's configuration: immutable values parsed by {@link ConfigParser} and handed to the mechanisms (pools,
 * routes, report), which never read files or system properties themselves. {@code lines} gives each key's line in
 * {@code source}, for errors found after parsing (a pool that cannot be created); {@code warnings} are said once at
 * start (a file read as ISO-8859-1).
 */
record AgentConfig(String source, List<PoolSpec> pools, List<RouteSpec> routes, Path report, LogLevel log,
                   Map<String, Integer> lines, List<String> warnings, LeakDetection leakDetection) {

    /**
     * {@code leak-detection}: blocks of explicit-release APIs (Unsafe, libc through downcalls) still live at exit,
     * by call site ({@code sites}), and with the allocation stack of a sample of them ({@code stacks}, after Netty's
     * ResourceLeakDetector levels).
     */
    enum LeakDetection { OFF, SITES, STACKS }

    enum Kind { VOLATILE, CTO }

    /** The {@code calls} values: which kinds of off-heap allocation a route takes. */
    enum Call {
        ALLOCATE_DIRECT("allocateDirect"), ALLOCATE_MEMORY("allocateMemory"), ARENA("arena"), DOWNCALL("downcall");

        /** The value's spelling in the config file, also the {@code call} of sites in the report. */
        final String configName;

        Call(String configName) {
            this.configName = configName;
        }

        static Call of(String configName) {
            for (Call c : values()) {
                if (c.configName.equals(configName)) {
                    return c;
                }
            }
            return null;
        }
    }

    enum OnExhausted { FALLBACK, FAIL }

    enum OnDirty { FAIL, RECREATE }

    enum LogLevel { QUIET, WARN, INFO, DEBUG }

    /** {@code path} is a directory or device for volatile pools, the pool file for cto pools. */
    /**
     * One pool: {@code size} is the initial size and {@code maxSize} the limit it grows to ({@code size} when it does
     * not grow); {@code numa} null for the kernel's placement; {@code defaultPath} when the config named no path.
     */
    record PoolSpec(String name, Kind kind, Path path, long size, String layout, OnDirty onDirty, long maxSize,
                    NumaPolicy numa, PoolOptions.HugePages hugePages, boolean defaultPath) {
        /** The path value of a volatile pool in an anonymous memory file. */
        static final String MEMFD = "memfd:";

        boolean memfd() {
            return path.toString().equals(MEMFD);
        }

        /** {@code base} with this pool's size limit, placement and huge pages. */
        PoolOptions options(PoolOptions base) {
            PoolOptions o = base.withNumaPolicy(numa).withHugePages(hugePages);
            return maxSize > size ? o.withMaxSize(maxSize) : o;
        }
    }

    /** Prefixes are dotted names: a package prefix or a class name. */
    record RouteSpec(String name, List<String> include, List<String> exclude, String pool, Set<Call> calls,
                     long minSize, OnExhausted onExhausted) {
    }

    /**
     * A one-line error at {@code key}: {@code file:line: key: reason}; for a key not in the file (a default), the
     * line of {@code fallbackKey} if given there, else the first line of that key's pool or route.
     */
    ConfigException error(String key, String fallbackKey, String reason) {
        return new ConfigException(message(key, fallbackKey, reason));
    }

    /**
     * {@code <file>:<line>: <key>: <reason>} for {@code key}'s line (else {@code fallbackKey}'s, else the first line of
     * the key's group): the form of errors, and of warnings about a config line.
     */
    String message(String key, String fallbackKey, String reason) {
        Integer line = lines.get(key);
        if (line == null && fallbackKey != null) {
            line = lines.get(fallbackKey);
        }
        if (line == null) {
            String prefix = key.substring(0, key.lastIndexOf('.') + 1);
            for (Map.Entry<String, Integer> e : lines.entrySet()) {
                if (e.getKey().startsWith(prefix) && (line == null || e.getValue() < line)) {
                    line = e.getValue();
                }
            }
        }
        return ConfigException.line(source, line == null ? 0 : line, key, reason);
    }

    PoolSpec pool(String name) {
        for (PoolSpec p : pools) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        return null;
    }
}
