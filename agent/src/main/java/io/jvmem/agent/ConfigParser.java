package io.jvmem.agent;

import io.jvmem.agent.AgentConfig.Call;
import io.jvmem.agent.AgentConfig.Kind;
import io.jvmem.agent.AgentConfig.LogLevel;
import io.jvmem.agent.AgentConfig.OnDirty;
import io.jvmem.agent.AgentConfig.OnExhausted;
import io.jvmem.agent.AgentConfig.PoolSpec;
import io.jvmem.agent.AgentConfig.RouteSpec;
import io.jvmem.allocator.NumaPolicy;
import io.jvmem.allocator.PoolOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the agent's properties file, keeping each key's line so that every error names file, line and key. The syntax
 * is exactly {@code java.util.Properties}' ({@link PropertiesReader}); the file is read as UTF-8, or as ISO-8859-1
 * (what {@code Properties.load(InputStream)} assumes) when it is not valid UTF-8, which start-up then says in one
 * warning; a leading byte order mark is dropped. Values are trimmed. On top of the syntax: a key given twice is an
 * error rather than a silent override, and a value with a blank and then {@code #} is refused, since Properties makes
 * such an "inline comment" part of the value.
 */
final class ConfigParser {
    // hand-written checks rather than regular expressions: the parser runs during JVM start-up
    private static boolean isName(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-')) {
                return false;
            }
        }
        return true;
    }

    /** A dotted Java name: identifiers separated by single dots. */
    private static boolean isJavaName(String s) {
        boolean start = true;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (start) {
                if (!Character.isJavaIdentifierStart(c)) {
                    return false;
                }
                start = false;
            } else if (c == '.') {
                start = true;
            } else if (!Character.isJavaIdentifierPart(c)) {
                return false;
            }
        }
        return !start;
    }

    private record Entry(String value, String rawValue, int line) {
    }

    private final String file;
    /** Set when the file was not valid UTF-8 and was read as ISO-8859-1. */
    private final String charsetNote;
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    /** Lines that parse but select nothing, in the errors' one-line form: said once at start, at log=warn. */
    private final List<String> warnings = new ArrayList<>();

    /** Where a volatile pool without a path goes: /dev/shm, or the temporary directory where there is none. */
    private final Path defaultPoolDir;
    /** The working directory of the process the config is for, when not this one (null): see {@link #parse(Path, Path)}. */
    private final Path workingDir;

    private ConfigParser(String file, String charsetNote, Path defaultPoolDir, Path workingDir) {
        this.file = file;
        this.charsetNote = charsetNote;
        this.defaultPoolDir = defaultPoolDir;
        this.workingDir = workingDir;
    }

    static Path defaultPoolDir() {
        return Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
    }

    /** The keys of a pool and of a route: one list each, for the checks and their messages. */
    private static final List<String> POOL_KEYS = List.of("kind", "path", "size", "max-size", "layout", "on-dirty", "numa", "huge-pages");
    private static final List<String> ROUTE_KEYS = List.of("include", "exclude", "pool", "calls", "min-size", "on-exhausted");

    /** A config is a few hundred bytes; anything this large is the wrong file. */
    static final long MAX_CONFIG_BYTES = 1 << 20;

    static AgentConfig parse(Path path) {
        return parse(path, null);
    }

    /**
     * As {@link #parse(Path)} for a process whose working directory is {@code workingDir} (null: this one's), against
     * which a relative report path is checked: {@code jvmem attach} checks for the target process.
     */
    static AgentConfig parse(Path path, Path workingDir) {
        String name = path.toString();
        byte[] bytes;
        try {
            java.nio.file.attribute.BasicFileAttributes a = Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class);
            if (a.isDirectory()) {
                throw new ConfigException(name + ": the config file is a directory");
            }
            // a FIFO or device would block the read (a FIFO with no writer, for ever) or never end: refused at once
            if (!a.isRegularFile()) {
                throw new ConfigException(name + ": the config file is not a regular file (a FIFO, socket or device)");
            }
            if (a.size() > MAX_CONFIG_BYTES) {
                throw new ConfigException(name + ": the config file is larger than " + MAX_CONFIG_BYTES + " bytes");
            }
            bytes = Files.readAllBytes(path);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ConfigException(name + ": config file not found");
        } catch (IOException e) {
            throw new ConfigException(name + ": cannot read config file: " + e.getMessage());
        }
        return parse(name, bytes, workingDir);
    }

    /** The config in {@code bytes}: UTF-8, or ISO-8859-1 if not valid UTF-8; a leading UTF-8 byte order mark is dropped. */
    static AgentConfig parse(String file, byte[] bytes) {
        return parse(file, bytes, null);
    }

    private static AgentConfig parse(String file, byte[] bytes, Path workingDir) {
        int from = bytes.length >= 3 && (bytes[0] & 0xff) == 0xef && (bytes[1] & 0xff) == 0xbb && (bytes[2] & 0xff) == 0xbf ? 3 : 0;
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, from, bytes.length - from);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = utf8.decode(in, out, true);
        if (!r.isError()) {
            r = utf8.flush(out);
        }
        if (!r.isError()) {
            return parse(file, out.flip().toString(), null, workingDir);
        }
        int line = 1;
        for (int i = from; i < in.position(); i++) {
            line += bytes[i] == '\n' || bytes[i] == '\r' && (i + 1 >= bytes.length || bytes[i + 1] != '\n') ? 1 : 0;
        }
        String text = new String(bytes, from, bytes.length - from, StandardCharsets.ISO_8859_1);
        return parse(file, text, file + " is not valid UTF-8 (line " + line + "): read as ISO-8859-1", workingDir);
    }

    /** The config in {@code lines} (joined by line breaks): for tests. */
    static AgentConfig parse(String file, List<String> lines) {
        return parse(file, String.join("\n", lines), null, null);
    }

    /** As {@link #parse(String, List)} with another default pool directory (tests: a small tmpfs for /dev/shm). */
    static AgentConfig parse(String file, List<String> lines, Path defaultPoolDir) {
        ConfigParser p = new ConfigParser(file, null, defaultPoolDir, null);
        p.read(String.join("\n", lines));
        return p.build();
    }

    private static AgentConfig parse(String file, String text, String charsetNote, Path workingDir) {
        ConfigParser p = new ConfigParser(file, charsetNote, defaultPoolDir(), workingDir);
        p.read(text.startsWith("\ufeff") ? text.substring(1) : text);
        return p.build();
    }

    private void read(String text) {
        List<PropertiesReader.Entry> read;
        try {
            read = PropertiesReader.read(text);
        } catch (PropertiesReader.MalformedEscapeException e) {
            throw new ConfigException(file, e.line, e.rawKey, e.getMessage() + note());
        }
        for (PropertiesReader.Entry e : read) {
            String key = e.key();
            if (key.isEmpty()) {
                throw new ConfigException(file, e.line(), null, "a line with no key (\"" + e.value() + "\")" + note());
            }
            Entry first = entries.get(key);
            if (first != null) {
                throw new ConfigException(file, e.line(), key, "given twice (first on line " + first.line() + ")" + note());
            }
            entries.put(key, new Entry(e.value().strip(), e.rawValue(), e.line()));
        }
    }

    /** Appended to every error of a file read as ISO-8859-1. */
    private String note() {
        return charsetNote == null ? "" : " (the file is not valid UTF-8 and was read as ISO-8859-1)";
    }

    private ConfigException error(String key, String reason) {
        Entry e = entries.get(key);
        return new ConfigException(file, e == null ? 0 : e.line(), key, reason + note());
    }

    private List<String> allWarnings() {
        List<String> all = new ArrayList<>();
        if (charsetNote != null) {
            all.add(charsetNote);
        }
        all.addAll(warnings);
        return List.copyOf(all);
    }

    /**
     * Warns about each entry of {@code include} (key {@code key}) that selects no class: JDK or jvmem classes, which
     * the agent never rewrites, or classes that one of {@code exclude} takes out again.
     */
    private void warnSelectingNothing(String key, List<String> include, List<String> exclude) {
        for (String i : include) {
            String excludedBy = exclude.stream().filter(e -> RouteTable.matches(e, i)).findFirst().orElse(null);
            String reason = AgentTransformer.isExempt((i + ".").replace('.', '/'))
                    ? "\"" + i + "\" is in packages the agent never rewrites (java., jdk., sun., com.sun., io.jvmem.agent, "
                    + "io.jvmem.allocator)"
                    : excludedBy != null ? "\"" + i + "\" selects nothing: all of it is excluded by \"" + excludedBy + "\"" : null;
            if (reason != null) {
                Entry e = entries.get(key);
                warnings.add(ConfigException.line(file, e == null ? 0 : e.line(), key, reason));
            }
        }
    }

    private ConfigException error(int line, String key, String reason) {
        return new ConfigException(file, line, key, reason + note());
    }

    private AgentConfig build() {
        Map<String, Map<String, String>> pools = new LinkedHashMap<>();
        Map<String, Map<String, String>> routes = new LinkedHashMap<>();
        Path report = null;
        LogLevel log = LogLevel.WARN;
        AgentConfig.LeakDetection leaks = AgentConfig.LeakDetection.OFF;
        for (Map.Entry<String, Entry> me : entries.entrySet()) {
            String key = me.getKey();
            String[] parts = key.split("\\.", -1);
            if (key.equals("report")) {
                report = reportPath(key);
            } else if (key.equals("log")) {
                log = enumValue(key, value(key), LogLevel.class, "quiet, warn, info, debug");
            } else if (key.equals("leak-detection")) {
                leaks = enumValue(key, value(key), AgentConfig.LeakDetection.class, "off, sites, stacks");
            } else if ((parts[0].equals("pool") || parts[0].equals("route")) && parts.length == 3) {
                if (!isName(parts[1])) {
                    throw error(key, "name \"" + parts[1] + "\" must be letters, digits, '_' or '-'");
                }
                Map<String, Map<String, String>> group = parts[0].equals("pool") ? pools : routes;
                Map<String, String> keys = group.get(parts[1]);
                if (keys == null) { // no lambda: its bootstrap costs start-up
                    group.put(parts[1], keys = new LinkedHashMap<>());
                }
                keys.put(parts[2], key);
            } else {
                throw error(key, "unknown key (known: pool.<name>.{" + String.join(",", POOL_KEYS) + "}, route.<name>.{"
                        + String.join(",", ROUTE_KEYS) + "}, report, log, leak-detection)");
            }
        }
        List<PoolSpec> poolSpecs = new ArrayList<>();
        for (Map.Entry<String, Map<String, String>> p : pools.entrySet()) {
            poolSpecs.add(pool(p.getKey(), p.getValue()));
        }
        List<RouteSpec> routeSpecs = new ArrayList<>();
        Map<String, String> includedBy = new HashMap<>();
        for (Map.Entry<String, Map<String, String>> r : routes.entrySet()) {
            RouteSpec route = route(r.getKey(), r.getValue(), pools.keySet());
            for (String prefix : route.include()) {
                String other = includedBy.putIfAbsent(prefix, route.name());
                if (other != null) {
                    throw error(r.getValue().get("include"), "\"" + prefix + "\" is already included by route " + other);
                }
            }
            routeSpecs.add(route);
        }
        if (routeSpecs.isEmpty() && poolSpecs.isEmpty() && entries.isEmpty()) {
            throw new ConfigException(file + ": no pools or routes configured");
        }
        Map<String, Integer> lines = new LinkedHashMap<>();
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            lines.put(e.getKey(), e.getValue().line());
        }
        return new AgentConfig(file, List.copyOf(poolSpecs), List.copyOf(routeSpecs), report, log,
                java.util.Collections.unmodifiableMap(lines), allWarnings(), leaks);
    }

    /**
     * The report's path, checked now so that a report that cannot be written stops the JVM at start rather than being
     * lost at exit: its directory must exist and be writable (the report is written to a temporary file there and
     * moved into place), and the path must not be a directory.
     */
    private Path reportPath(String key) {
        String v = value(key);
        if (v.isEmpty()) {
            throw error(key, "needs a file path");
        }
        Path p;
        try {
            p = Path.of(v);
        } catch (java.nio.file.InvalidPathException e) {
            throw error(key, "\"" + v + "\" is not a path: " + e.getReason());
        }
        Path where = workingDir != null && !p.isAbsolute() ? workingDir.resolve(p) : p; // as the agent's process sees it
        if (Files.isDirectory(where)) {
            throw error(key, p + " is a directory (the report is a file)");
        }
        Path dir = where.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw error(key, "cannot write the report: directory " + dir + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw error(key, "cannot write the report: directory " + dir + " is not writable");
        }
        if (Files.exists(where) && !Files.isRegularFile(where)) {
            throw error(key, p + " exists and is not a regular file");
        }
        return p;
    }

    private PoolSpec pool(String name, Map<String, String> keys) {
        String prefix = "pool." + name + ".";
        for (String k : keys.values()) {
            String attr = k.substring(prefix.length());
            if (!POOL_KEYS.contains(attr)) {
                throw error(k, "unknown pool key (known: " + String.join(", ", POOL_KEYS) + ")");
            }
        }
        Kind kind = keys.containsKey("kind") ? enumValue(keys.get("kind"), value(keys.get("kind")), Kind.class, "volatile, cto")
                : Kind.VOLATILE;
        Path path;
        if (keys.containsKey("path")) {
            String v = value(keys.get("path"));
            if (v.isEmpty()) {
                throw error(keys.get("path"), "needs a path");
            }
            if (v.equals(PoolSpec.MEMFD) && kind == Kind.CTO) {
                throw error(keys.get("path"), "a cto pool needs a pool file; memfd: is for volatile pools");
            }
            path = Path.of(v);
        } else if (kind == Kind.CTO) {
            throw error(firstLine(keys), prefix + "path", "a cto pool needs the path of its pool file");
        } else {
            path = defaultPoolDir;
        }
        if (!keys.containsKey("size")) {
            throw error(firstLine(keys), prefix + "size", "missing (bytes, with an optional k, m, g or t suffix)");
        }
        long size = size(keys.get("size"));
        long min = kind == Kind.CTO ? 16L << 20 : 14L << 20;
        if (size < min) {
            throw error(keys.get("size"), "pool size " + size + " is below the minimum of " + (min >> 20) + " MiB");
        }
        String layout = name;
        if (keys.containsKey("layout")) {
            if (kind != Kind.CTO) {
                throw error(keys.get("layout"), "only cto pools have a layout");
            }
            layout = value(keys.get("layout"));
            if (layout.isEmpty() || layout.getBytes(StandardCharsets.UTF_8).length > 1024) {
                throw error(keys.get("layout"), "layout name must be 1 to 1024 bytes");
            }
        }
        OnDirty onDirty = OnDirty.FAIL;
        if (keys.containsKey("on-dirty")) {
            if (kind != Kind.CTO) {
                throw error(keys.get("on-dirty"), "only cto pools have on-dirty");
            }
            onDirty = enumValue(keys.get("on-dirty"), value(keys.get("on-dirty")), OnDirty.class, "fail, recreate");
        }
        long maxSize = size;
        if (keys.containsKey("max-size")) {
            maxSize = size(keys.get("max-size"));
            if (maxSize < size) {
                throw error(keys.get("max-size"), "max-size " + maxSize + " is below the pool's size " + size);
            }
        }
        NumaPolicy numa = null;
        if (keys.containsKey("numa")) {
            try {
                numa = NumaPolicy.parse(value(keys.get("numa")));
            } catch (IllegalArgumentException e) {
                throw error(keys.get("numa"), e.getMessage());
            }
        }
        PoolOptions.HugePages huge = PoolOptions.HugePages.NONE;
        if (keys.containsKey("huge-pages")) {
            huge = enumValue(keys.get("huge-pages"), value(keys.get("huge-pages")), PoolOptions.HugePages.class,
                    "none, transparent");
        }
        return new PoolSpec(name, kind, path, size, layout, onDirty, maxSize, numa, huge, !keys.containsKey("path"));
    }

    private RouteSpec route(String name, Map<String, String> keys, java.util.Set<String> poolNames) {
        String prefix = "route." + name + ".";
        for (String k : keys.values()) {
            String attr = k.substring(prefix.length());
            if (!ROUTE_KEYS.contains(attr)) {
                throw error(k, "unknown route key (known: " + String.join(", ", ROUTE_KEYS) + ")");
            }
        }
        if (!keys.containsKey("include")) {
            throw error(firstLine(keys), prefix + "include", "missing (package prefixes or class names)");
        }
        List<String> include = names(keys.get("include"));
        if (include.isEmpty()) {
            throw error(keys.get("include"), "needs at least one package prefix or class name");
        }
        List<String> exclude = keys.containsKey("exclude") ? names(keys.get("exclude")) : List.of();
        warnSelectingNothing(keys.get("include"), include, exclude);
        if (!keys.containsKey("pool")) {
            throw error(firstLine(keys), prefix + "pool", "missing (the name of a pool)");
        }
        String pool = value(keys.get("pool"));
        if (!poolNames.contains(pool)) {
            throw error(keys.get("pool"), "no pool named \"" + pool + "\" is configured"
                    + (poolNames.isEmpty() ? "" : " (pools: " + String.join(", ", poolNames) + ")"));
        }
        EnumSet<Call> calls = EnumSet.allOf(Call.class);
        if (keys.containsKey("calls")) {
            calls = EnumSet.noneOf(Call.class);
            for (String c : value(keys.get("calls")).split(",")) {
                Call call = Call.of(c.strip());
                if (call == null) {
                    throw error(keys.get("calls"), "unknown call \"" + c.strip() + "\" (known: allocateDirect, allocateMemory, arena, downcall)");
                }
                calls.add(call);
            }
        }
        long minSize = keys.containsKey("min-size") ? size(keys.get("min-size")) : 0;
        OnExhausted onExhausted = keys.containsKey("on-exhausted")
                ? enumValue(keys.get("on-exhausted"), value(keys.get("on-exhausted")), OnExhausted.class, "fallback, fail")
                : OnExhausted.FALLBACK;
        return new RouteSpec(name, include, exclude, pool, java.util.Collections.unmodifiableSet(calls), minSize, onExhausted);
    }

    private int firstLine(Map<String, String> keys) {
        int first = 0;
        for (String k : keys.values()) {
            int line = entries.get(k).line();
            first = first == 0 ? line : Math.min(first, line);
        }
        return first;
    }

    /**
     * The value of {@code key}, trimmed. Refuses a blank followed by {@code #} (unescaped): Properties has no inline
     * comments, so the README's old {@code size = 1g   # comment} would silently make the comment part of the value.
     */
    private String value(String key) {
        Entry e = entries.get(key);
        String raw = e.rawValue();
        boolean escaped = false;
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if ((c == ' ' || c == '\t' || c == '\f') && !escaped && i + 1 < raw.length() && raw.charAt(i + 1) == '#') {
                String what = key.endsWith(".size") || key.endsWith(".min-size") ? "size" : "value";
                throw error(key, "bad " + what + " \"" + e.value() + "\": '#' starts a comment only at the beginning of a line");
            }
            escaped = c == '\\' && !escaped;
        }
        return e.value();
    }

    private List<String> names(String key) {
        List<String> out = new ArrayList<>();
        for (String s : value(key).split(",")) {
            String n = s.strip();
            if (n.isEmpty()) {
                continue;
            }
            if (!isJavaName(n)) {
                throw error(key, "\"" + n + "\" is not a package prefix or class name");
            }
            out.add(n);
        }
        return List.copyOf(out);
    }

    private long size(String key) {
        String v = value(key);
        int digits = 0;
        while (digits < v.length() && v.charAt(digits) >= '0' && v.charAt(digits) <= '9') {
            digits++;
        }
        String rest = v.substring(digits).strip().toLowerCase(Locale.ROOT);
        if (rest.endsWith("b") && rest.length() <= 2) {
            rest = rest.substring(0, rest.length() - 1);
        }
        if (digits == 0 || !(rest.isEmpty() || rest.length() == 1 && "kmgt".indexOf(rest.charAt(0)) >= 0)) {
            throw error(key, "\"" + v + "\" is not a size (bytes, with an optional k, m, g or t suffix)");
        }
        int shift = switch (rest) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
        };
        try {
            long n = Long.parseLong(v.substring(0, digits));
            if (n > (Long.MAX_VALUE >> shift)) {
                throw error(key, "\"" + v + "\" is too large");
            }
            return n << shift;
        } catch (NumberFormatException e) {
            throw error(key, "\"" + v + "\" is too large");
        }
    }

    private <E extends Enum<E>> E enumValue(String key, String value, Class<E> type, String known) {
        for (E e : type.getEnumConstants()) {
            if (e.name().replace('_', '-').equalsIgnoreCase(value)) {
                return e;
            }
        }
        throw error(key, "unknown value \"" + value + "\" (known: " + known + ")");
    }
}
