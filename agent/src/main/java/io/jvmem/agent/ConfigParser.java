package io.jvmem.agent;

import io.jvmem.agent.AgentConfig.Call;
import io.jvmem.agent.AgentConfig.Kind;
import io.jvmem.agent.AgentConfig.LogLevel;
import io.jvmem.agent.AgentConfig.OnDirty;
import io.jvmem.agent.AgentConfig.OnExhausted;
import io.jvmem.agent.AgentConfig.PoolSpec;
import io.jvmem.agent.AgentConfig.RouteSpec;
import java.io.IOException;
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
 * Reads the agent's properties file, keeping each key's line so that every error names file, line and key. Accepts
 * the {@code java.util.Properties} line syntax that matters in practice ({@code key=value}, {@code key: value},
 * {@code #} and {@code !} comments, backslash continuations); a key given twice is an error rather than a silent
 * override.
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

    private record Entry(String value, int line) {
    }

    private final String file;
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    private ConfigParser(String file) {
        this.file = file;
    }

    static AgentConfig parse(Path path) {
        String name = path.toString();
        List<String> lines;
        try {
            lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ConfigException(name + ": config file not found");
        } catch (IOException e) {
            throw new ConfigException(name + ": cannot read config file: " + e.getMessage());
        }
        return parse(name, lines);
    }

    static AgentConfig parse(String file, List<String> lines) {
        ConfigParser p = new ConfigParser(file);
        p.read(lines);
        return p.build();
    }

    private void read(List<String> lines) {
        for (int i = 0; i < lines.size(); i++) {
            int lineNo = i + 1;
            StringBuilder logical = new StringBuilder(lines.get(i).strip());
            if (logical.isEmpty() || logical.charAt(0) == '#' || logical.charAt(0) == '!') {
                continue;
            }
            while (endsWithContinuation(logical) && i + 1 < lines.size()) {
                logical.setLength(logical.length() - 1);
                logical.append(lines.get(++i).strip());
            }
            String s = logical.toString();
            int sep = -1;
            for (int k = 0; k < s.length(); k++) {
                char c = s.charAt(k);
                if (c == '=' || c == ':' || Character.isWhitespace(c)) {
                    sep = k;
                    break;
                }
            }
            String key = (sep < 0 ? s : s.substring(0, sep)).strip();
            String value = "";
            if (sep >= 0) {
                String rest = s.substring(sep).stripLeading();
                if (!rest.isEmpty() && (rest.charAt(0) == '=' || rest.charAt(0) == ':')) {
                    rest = rest.substring(1);
                }
                value = rest.strip();
            }
            if (entries.containsKey(key)) {
                throw new ConfigException(file, lineNo, key, "given twice (first on line " + entries.get(key).line() + ")");
            }
            entries.put(key, new Entry(value, lineNo));
        }
    }

    private static boolean endsWithContinuation(CharSequence s) {
        int n = 0;
        for (int k = s.length() - 1; k >= 0 && s.charAt(k) == '\\'; k--) {
            n++;
        }
        return (n & 1) == 1;
    }

    private ConfigException error(String key, String reason) {
        Entry e = entries.get(key);
        return new ConfigException(file, e == null ? 0 : e.line(), key, reason);
    }

    private AgentConfig build() {
        Map<String, Map<String, String>> pools = new LinkedHashMap<>();
        Map<String, Map<String, String>> routes = new LinkedHashMap<>();
        Path report = null;
        LogLevel log = LogLevel.WARN;
        for (Map.Entry<String, Entry> me : entries.entrySet()) {
            String key = me.getKey();
            String value = me.getValue().value();
            String[] parts = key.split("\\.", -1);
            if (key.equals("report")) {
                if (value.isEmpty()) {
                    throw error(key, "needs a file path");
                }
                report = Path.of(value);
            } else if (key.equals("log")) {
                log = enumValue(key, value, LogLevel.class, "quiet, warn, info, debug");
            } else if ((parts[0].equals("pool") || parts[0].equals("route")) && parts.length == 3) {
                if (!isName(parts[1])) {
                    throw error(key, "name \"" + parts[1] + "\" must be letters, digits, '_' or '-'");
                }
                Map<String, Map<String, String>> group = parts[0].equals("pool") ? pools : routes;
                group.computeIfAbsent(parts[1], n -> new LinkedHashMap<>()).put(parts[2], key);
            } else {
                throw error(key, "unknown key (known: pool.<name>.{kind,path,size,layout,on-dirty}, "
                        + "route.<name>.{include,exclude,pool,calls,min-size,on-exhausted}, report, log)");
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
        return new AgentConfig(file, List.copyOf(poolSpecs), List.copyOf(routeSpecs), report, log);
    }

    private PoolSpec pool(String name, Map<String, String> keys) {
        String prefix = "pool." + name + ".";
        for (String k : keys.values()) {
            String attr = k.substring(prefix.length());
            if (!List.of("kind", "path", "size", "layout", "on-dirty").contains(attr)) {
                throw error(k, "unknown pool key (known: kind, path, size, layout, on-dirty)");
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
            path = Path.of(v);
        } else if (kind == Kind.CTO) {
            throw new ConfigException(file, firstLine(keys), prefix + "path", "a cto pool needs the path of its pool file");
        } else {
            path = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
        }
        if (!keys.containsKey("size")) {
            throw new ConfigException(file, firstLine(keys), prefix + "size", "missing (bytes, with k/m/g/t suffixes)");
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
        return new PoolSpec(name, kind, path, size, layout, onDirty);
    }

    private RouteSpec route(String name, Map<String, String> keys, java.util.Set<String> poolNames) {
        String prefix = "route." + name + ".";
        for (String k : keys.values()) {
            String attr = k.substring(prefix.length());
            if (!List.of("include", "exclude", "pool", "calls", "min-size", "on-exhausted").contains(attr)) {
                throw error(k, "unknown route key (known: include, exclude, pool, calls, min-size, on-exhausted)");
            }
        }
        if (!keys.containsKey("include")) {
            throw new ConfigException(file, firstLine(keys), prefix + "include", "missing (package prefixes or class names)");
        }
        List<String> include = names(keys.get("include"));
        if (include.isEmpty()) {
            throw error(keys.get("include"), "needs at least one package prefix or class name");
        }
        List<String> exclude = keys.containsKey("exclude") ? names(keys.get("exclude")) : List.of();
        if (!keys.containsKey("pool")) {
            throw new ConfigException(file, firstLine(keys), prefix + "pool", "missing (the name of a pool)");
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
        return keys.values().stream().mapToInt(k -> entries.get(k).line()).min().orElse(0);
    }

    private String value(String key) {
        return entries.get(key).value();
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
