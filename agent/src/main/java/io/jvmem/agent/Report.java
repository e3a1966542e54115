package io.jvmem.agent;

import io.jvmem.allocator.CtoPool;
import io.jvmem.allocator.JsonWriter;
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
        JsonWriter w = JsonWriter.spaced().beginObject(true);
        w.name("pools").beginArray(true);
        for (Map.Entry<String, MemoryPool> e : rt.pools().entrySet()) {
            MemoryPool p = e.getValue();
            PoolStats s = stats.get(e.getKey());
            PoolStats.Tier tier = s.tier(); // where the pool's memory is
            w.beginObject()
                    .field("name", e.getKey())
                    .field("kind", p instanceof CtoPool ? "cto" : "volatile")
                    .field("path", rt.config().pool(e.getKey()).path().toString())
                    .field("size", p.size())
                    .field("usable", s.usable())
                    .field("inUse", s.allocated())
                    // The allocator's peak is exact for one thread and an upper bound within 1 MiB per thread
                    // otherwise; no block can outgrow the pool, so the bound is tightened to what the pool can hold.
                    .field("peakInUse", Math.min(s.peakAllocated(), s.usable()))
                    .field("active", s.active())
                    .field("allocations", s.mallocs())
                    .field("frees", s.frees())
                    .field("maxSize", tier.maxSize())
                    .field("numa", tier.numaPolicy());
            w.name("pagesPerNode").beginArray();
            for (long n : tier.pagesPerNode()) {
                w.value(n);
            }
            w.endArray();
            w.field("hugePages", tier.hugePages())
                    .field("hugePageBytes", tier.hugePageBytes())
                    .endObject();
        }
        w.endArray();
        w.name("routes").beginArray(true);
        List<Site> sites = rt.sites().all();
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
            w.beginObject()
                    .field("name", r.name())
                    .field("pool", r.spec.pool())
                    .field("include", r.spec.include())
                    .field("allocations", allocations)
                    .field("bytes", bytes)
                    .field("inUse", inUse)
                    .field("fallbacks", r.fallbacks.sum())
                    .field("fallbackBytes", r.fallbackBytes.get());
            w.name("fallbackReasons").beginObject();
            for (Route.Fallback f : Route.Fallback.values()) {
                w.name(f.key).beginObject().field("requests", r.fallbacks(f)).field("bytes", r.fallbackBytes(f)).endObject();
            }
            w.endObject();
            w.field("failures", r.failures.sum()).field("belowMinSize", r.belowMinSize.sum());
            w.name("unrouted").beginArray();
            for (Map.Entry<String, java.util.concurrent.atomic.LongAdder> u : new java.util.TreeMap<>(r.unrouted).entrySet()) {
                w.beginObject().field("where", u.getKey()).field("seen", u.getValue().sum()).endObject();
            }
            w.endArray().endObject();
        }
        w.endArray();
        w.name("sites").beginArray(true);
        for (Site site : sites) {
            if (site.indirect()) {
                continue; // a lookup or Method.invoke: what it reached is recorded at a site of its own
            }
            PoolStats.TagStats t = stats.get(site.route.spec.pool()).tag(site.tag.name());
            w.beginObject()
                    .field("site", site.name)
                    .field("route", site.route.name())
                    .field("call", site.call)
                    .field("allocations", t == null ? 0 : t.requests())
                    .field("bytes", t == null ? 0 : t.bytes())
                    .field("inUse", t == null ? 0 : t.inUse())
                    .field("peakInUse", t == null ? 0 : Math.min(t.peakInUse(), stats.get(site.route.spec.pool()).usable()))
                    .endObject();
        }
        w.endArray();
        if (rt.leaks() != null) {
            rt.leaks().write(w);
        } else {
            w.name("leaks").beginObject().field("detection", "off").name("sites").beginArray().endArray().endObject();
        }
        w.name("agent").beginObject()
                .field("classesRewritten", rt.transformer().rewritten.sum())
                .field("rewriteFailures", rt.transformer().failed.sum())
                .field("releaseErrors", rt.hooks().releaseErrors())
                .field("uptimeMillis", rt.uptimeMillis())
                .endObject();
        return w.endObject().toString() + "\n";
    }
}
