package io.jvmem.agent;

import io.jvmem.allocator.CtoPool;
import io.jvmem.allocator.MemoryPool;
import io.jvmem.allocator.PoolStats;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.LinkOption;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON report written at exit: pools, routes and call sites (the typed-allocation view: which line of which class
 * holds how much pool memory). Written to a temporary file and moved into place, so a reader never sees half of it.
 */
final class Report {
    private Report() {
    }

    static void write(AgentRuntime rt, Path path) throws IOException {
        String json = render(rt);
        Path tmp = temporary(path);
        Files.writeString(tmp, json, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
        Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** A name of our own next to the report, not Files.createTempFile: that initialises SecureRandom at exit. */
    private static Path temporary(Path path) {
        return path.toAbsolutePath().resolveSibling("." + path.getFileName() + "." + pid() + ".tmp");
    }

    /**
     * This process's id, read from /proc/self: {@code ProcessHandle.current()} initialises the JDK's process reaper
     * (its thread factory, a lambda and an executor), about 25 ms at start-up, where the report's probe runs.
     */
    private static String pid() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self")).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return Long.toString(ProcessHandle.current().pid());
        }
    }

    /**
     * Makes and removes the temporary file the report will be written through, so that a report that cannot be
     * written (a read-only or special file system, such as /proc) stops the JVM at start instead of being lost at exit.
     */
    static void probe(Path path) throws IOException {
        Path tmp = temporary(path);
        Files.write(tmp, new byte[0], StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
        Files.delete(tmp);
    }

    static String render(AgentRuntime rt) {
        Map<String, PoolStats> stats = new HashMap<>();
        for (Map.Entry<String, MemoryPool> e : rt.pools().entrySet()) {
            stats.put(e.getKey(), e.getValue().stats());
        }
        StringBuilder b = new StringBuilder(4096);
        b.append("{\n  \"pools\": [");
        String sep = "\n";
        for (Map.Entry<String, MemoryPool> e : rt.pools().entrySet()) {
            MemoryPool p = e.getValue();
            PoolStats s = stats.get(e.getKey());
            b.append(sep).append("    {");
            field(b, "name", e.getKey(), true);
            field(b, "kind", p instanceof CtoPool ? "cto" : "volatile", false);
            field(b, "path", rt.config().pool(e.getKey()).path().toString(), false);
            field(b, "size", p.size(), false);
            field(b, "usable", s.usable(), false);
            field(b, "inUse", s.allocated(), false);
            // The allocator's peak is exact for one thread and an upper bound within 1 MiB per thread otherwise; no
            // block can outgrow the pool, so the bound is tightened to what the pool can hold.
            field(b, "peakInUse", Math.min(s.peakAllocated(), s.usable()), false);
            field(b, "active", s.active(), false);
            field(b, "allocations", s.mallocs(), false);
            field(b, "frees", s.frees(), false);
            PoolStats.Tier t = s.tier(); // where the pool's memory is (issue 11)
            field(b, "maxSize", t.maxSize(), false);
            field(b, "numa", t.numaPolicy(), false);
            b.append(", \"pagesPerNode\": ").append(t.pagesPerNode().toString());
            field(b, "hugePages", t.hugePages(), false);
            field(b, "hugePageBytes", t.hugePageBytes(), false);
            b.append('}');
            sep = ",\n";
        }
        b.append("\n  ],\n  \"routes\": [");
        List<Site> sites = rt.sites().all();
        sep = "\n";
        for (Route r : rt.routes()) {
            long allocations = 0;
            long bytes = 0;
            long inUse = 0;
            for (Site site : sites) {
                if (site.route == r) {
                    PoolStats.TagStats t = stats.get(r.spec.pool()).tag(site.tag.name());
                    if (t != null) {
                        allocations += t.requests();
                        bytes += t.bytes();
                        inUse += t.inUse();
                    }
                }
            }
            b.append(sep).append("    {");
            field(b, "name", r.name(), true);
            field(b, "pool", r.spec.pool(), false);
            b.append(", \"include\": ").append(stringArray(r.spec.include()));
            field(b, "allocations", allocations, false);
            field(b, "bytes", bytes, false);
            field(b, "inUse", inUse, false);
            field(b, "fallbacks", r.fallbacks.sum(), false);
            field(b, "fallbackBytes", r.fallbackBytes.sum(), false);
            b.append(", \"fallbackReasons\": {");
            String rsep = "";
            for (Route.Fallback f : Route.Fallback.values()) {
                b.append(rsep).append('"').append(f.key).append("\": {\"requests\": ").append(r.fallbacks(f))
                        .append(", \"bytes\": ").append(r.fallbackBytes(f)).append('}');
                rsep = ", ";
            }
            b.append('}');
            field(b, "failures", r.failures.sum(), false);
            field(b, "belowMinSize", r.belowMinSize.sum(), false);
            b.append(", \"unrouted\": [");
            String usep = "";
            for (Map.Entry<String, java.util.concurrent.atomic.LongAdder> u : new java.util.TreeMap<>(r.unrouted).entrySet()) {
                b.append(usep).append('{');
                field(b, "where", u.getKey(), true);
                field(b, "seen", u.getValue().sum(), false);
                b.append('}');
                usep = ", ";
            }
            b.append(']');
            b.append('}');
            sep = ",\n";
        }
        b.append("\n  ],\n  \"sites\": [");
        sep = "\n";
        for (Site site : sites) {
            if (site.indirect()) {
                continue; // a lookup or Method.invoke: what it reached is recorded at a site of its own
            }
            PoolStats.TagStats t = stats.get(site.route.spec.pool()).tag(site.tag.name());
            b.append(sep).append("    {");
            field(b, "site", site.name, true);
            field(b, "route", site.route.name(), false);
            field(b, "call", site.call, false);
            field(b, "allocations", t == null ? 0 : t.requests(), false);
            field(b, "bytes", t == null ? 0 : t.bytes(), false);
            field(b, "inUse", t == null ? 0 : t.inUse(), false);
            field(b, "peakInUse", t == null ? 0 : Math.min(t.peakInUse(), stats.get(site.route.spec.pool()).usable()), false);
            b.append('}');
            sep = ",\n";
        }
        b.append("\n  ],\n  \"agent\": {");
        field(b, "classesRewritten", rt.transformer().rewritten.sum(), true);
        field(b, "rewriteFailures", rt.transformer().failed.sum(), false);
        field(b, "releaseErrors", rt.hooks().releaseErrors(), false);
        field(b, "uptimeMillis", rt.uptimeMillis(), false);
        b.append("}\n}\n");
        return b.toString();
    }

    private static void field(StringBuilder b, String name, Object value, boolean first) {
        if (!first) {
            b.append(", ");
        }
        b.append('"').append(name).append("\": ");
        if (value instanceof Number) {
            b.append(value);
        } else {
            string(b, String.valueOf(value));
        }
    }

    private static String stringArray(List<String> values) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                b.append(", ");
            }
            string(b, values.get(i));
        }
        return b.append(']').toString();
    }

    static void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
