package io.jvmem.agent;

import io.jvmem.agent.AgentConfig.LeakDetection;
import io.jvmem.allocator.JsonWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Leak detection for memory that only the program frees (Unsafe, libc through downcalls, the JDK's global arena): each
 * live block of such a call site is remembered with its size and time of allocation, and what is still live at exit is reported by site,
 * with count, bytes and the age of the oldest block. With {@code stacks} the allocation stack trace is kept for the
 * first block of each site and one in {@link #STACK_SAMPLE} after it (Netty's ResourceLeakDetector samples 1 in 128
 * at its SIMPLE/ADVANCED levels). Buffers and segments of other arenas are not tracked: a collection or their arena
 * returns them. Thread-safe; costs one map insert and removal per tracked block, nothing when off.
 */
final class Leaks {
    /** One allocation stack kept in this many (and the first of each site). */
    static final int STACK_SAMPLE = 128;
    /** Stacks reported per site at most. */
    static final int STACKS_PER_SITE = 4;

    private record Block(Site site, long size, long nanos, StackTrace stack) {
    }

    /** Where a block was allocated; never thrown. */
    static final class StackTrace extends Throwable {
        StackTrace() {
            super(null, null, false, true);
        }
    }

    private final LeakDetection mode;
    private final ConcurrentHashMap<Long, Block> live = new ConcurrentHashMap<>();
    private final java.util.Set<Integer> sitesWithStack = ConcurrentHashMap.newKeySet();

    Leaks(LeakDetection mode) {
        this.mode = mode;
    }

    /** A leak tracker for the configured mode, or null when off (the allocation path then tests one field). */
    static Leaks of(LeakDetection mode) {
        return mode == LeakDetection.OFF ? null : new Leaks(mode);
    }

    static boolean explicitRelease(String call) {
        return call.equals(AgentConfig.Call.ALLOCATE_MEMORY.configName) || call.equals(AgentConfig.Call.DOWNCALL.configName);
    }

    void allocated(Site s, long address, long size) {
        StackTrace stack = null;
        if (mode == LeakDetection.STACKS
                && (ThreadLocalRandom.current().nextInt(STACK_SAMPLE) == 0 || sitesWithStack.add(s.id))) {
            stack = new StackTrace();
        }
        live.put(address, new Block(s, size, System.nanoTime(), stack));
    }

    void freed(long address) {
        live.remove(address);
    }

    /** A tracked block moved by realloc keeps its site and age; its size is the new one. */
    void moved(long from, long to, long size) {
        Block b = live.remove(from);
        if (b != null) {
            live.put(to, new Block(b.site, size, b.nanos, b.stack));
        }
    }

    /** The instant ages are taken at, once {@link #freezeAges} was called (0: now, at each call). */
    private volatile long agesAt;

    /** From now on, ages are as of this instant: the exit line and the report then give the same ages. */
    void freezeAges() {
        if (agesAt == 0) {
            agesAt = System.nanoTime();
        }
    }

    /** What is live now, one row per site, most bytes first. */
    List<SiteLeak> bySite() {
        long frozen = agesAt;
        long now = frozen != 0 ? frozen : System.nanoTime();
        Map<Site, SiteLeak> rows = new LinkedHashMap<>();
        for (Block b : live.values()) {
            SiteLeak r = rows.computeIfAbsent(b.site, SiteLeak::new);
            r.count++;
            r.bytes += b.size;
            r.oldestMillis = Math.max(r.oldestMillis, (now - b.nanos) / 1_000_000);
            if (b.stack != null && r.stacks.size() < STACKS_PER_SITE) {
                r.stacks.add(frames(b.stack));
            }
        }
        List<SiteLeak> out = new ArrayList<>(rows.values());
        out.sort(Comparator.comparingLong((SiteLeak r) -> r.bytes).reversed());
        return out;
    }

    /** The allocation stack below the agent's own frames and the bridge. */
    private static List<String> frames(StackTrace t) {
        List<String> out = new ArrayList<>();
        for (StackTraceElement e : t.getStackTrace()) {
            String c = e.getClassName();
            if (out.isEmpty() && (c.startsWith("io.jvmem.") || c.startsWith("java.nio.Jvmem") || c.startsWith("java.nio.jvmem"))) {
                continue;
            }
            out.add(e.toString());
        }
        return out;
    }

    static final class SiteLeak {
        final Site site;
        long count;
        long bytes;
        long oldestMillis;
        final List<List<String>> stacks = new ArrayList<>();

        SiteLeak(Site site) {
            this.site = site;
        }
    }

    /** The report's {@code leaks} member. */
    void write(JsonWriter w) {
        w.name("leaks").beginObject().field("detection", mode.name().toLowerCase(java.util.Locale.ROOT));
        w.name("sites").beginArray();
        for (SiteLeak r : bySite()) {
            w.beginObject().field("site", r.site.name).field("route", r.site.route.name()).field("call", r.site.call)
                    .field("count", r.count).field("bytes", r.bytes).field("oldestAgeMillis", r.oldestMillis);
            if (mode == LeakDetection.STACKS) {
                w.name("stacks").beginArray();
                for (List<String> stack : r.stacks) {
                    w.beginArray();
                    for (String f : stack) {
                        w.value(f);
                    }
                    w.endArray();
                }
                w.endArray();
            }
            w.endObject();
        }
        w.endArray().endObject();
    }

    /** The one exit line at log=warn, without the "jvmem: " prefix, or null when nothing leaked. */
    String summary() {
        List<SiteLeak> rows = bySite();
        if (rows.isEmpty()) {
            return null;
        }
        long count = 0;
        long bytes = 0;
        for (SiteLeak r : rows) {
            count += r.count;
            bytes += r.bytes;
        }
        SiteLeak top = rows.get(0);
        return "leak: " + count + (count == 1 ? " block (" : " blocks (") + Bytes.human(bytes) + ") of Unsafe, libc or global-arena memory "
                + "still live at exit at " + rows.size() + (rows.size() == 1 ? " site" : " sites") + "; most at " + top.site.name
                + ": " + top.count + " (" + Bytes.human(top.bytes) + "), oldest " + top.oldestMillis + " ms"
                + "; the report's leaks lists every site";
    }
}
