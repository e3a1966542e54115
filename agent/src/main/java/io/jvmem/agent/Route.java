package io.jvmem.agent;

import io.jvmem.agent.AgentConfig.Call;
import io.jvmem.agent.AgentConfig.OnExhausted;
import io.jvmem.agent.AgentConfig.RouteSpec;
import io.jvmem.allocator.MemoryPool;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/** A configured route bound to its pool, with the counters that only slow paths touch. */
final class Route {
    final RouteSpec spec;
    final MemoryPool pool;
    /** The kinds of allocation this route takes ({@code calls}). */
    final java.util.Set<Call> calls;
    final boolean fail;
    /** Requests the pool could not serve that went to the JDK instead, and their bytes; per reason below. */
    final LongAdder fallbacks = new LongAdder();
    final LongAccumulator fallbackBytes = bytes();
    private final LongAdder[] fallbacksBy = adders();
    private final LongAccumulator[] fallbackBytesBy = byteCounts();
    /** Requests refused with OutOfMemoryError (on-exhausted=fail). */
    final LongAdder failures = new LongAdder();
    /** Shapes of off-heap access in the route's classes that the agent does not route, each with how often seen. */
    final java.util.Map<String, LongAdder> unrouted = new java.util.concurrent.ConcurrentHashMap<>();
    /** Requests below min-size left to the JDK. */
    final LongAdder belowMinSize = new LongAdder();

    /**
     * Blocks of a close-to-open pool handed out through this route and not yet freed (null for volatile pools): the
     * program never asked for them to persist, so they go back before the pool is closed at exit.
     */
    final java.util.Set<Long> transients;

    Route(RouteSpec spec, MemoryPool pool) {
        this(spec, pool, null);
    }

    Route(RouteSpec spec, MemoryPool pool, java.util.Set<Long> transients) {
        this.spec = spec;
        this.pool = pool;
        this.transients = transients;
        this.calls = spec.calls().isEmpty() ? java.util.EnumSet.noneOf(Call.class) : java.util.EnumSet.copyOf(spec.calls());
        this.fail = spec.onExhausted() == OnExhausted.FAIL;
    }

    String name() {
        return spec.name();
    }

    /**
     * Why a request went to the JDK (on-exhausted=fallback): {@link #why} follows "pool X was"; {@link #key} names it
     * in the JSON report.
     */
    enum Fallback {
        RECLAIM_FAILED("afterReclaim", "full after waiting for reference processing and a collection"),
        BACKED_OFF("backedOff", "full, and collections were backing off (the last one made no room for a request this large)"),
        NOT_RECLAIMABLE("notReclaimable", "full (Unsafe memory and resized blocks: a collection cannot free them)"),
        FILE_SYSTEM_FULL("fileSystemFull", "full because its file system is full"),
        LARGER_THAN_POOL("largerThanPool", "smaller than the request, however empty (larger than its whole heap, or "
                + "an alignment no address in it meets: no collection was waited for)");

        final String key;
        final String why;

        Fallback(String key, String why) {
            this.key = key;
            this.why = why;
        }
    }

    /** Counts one request of {@code bytes} that went to the JDK. */
    void fellBack(Fallback why, long bytes) {
        fallbacks.increment();
        bytes = Math.max(0, bytes); // the totals saturate, which needs addends ≥ 0
        fallbackBytes.accumulate(bytes);
        fallbacksBy[why.ordinal()].increment();
        fallbackBytesBy[why.ordinal()].accumulate(bytes);
    }

    long fallbacks(Fallback why) {
        return fallbacksBy[why.ordinal()].sum();
    }

    long fallbackBytes(Fallback why) {
        return fallbackBytesBy[why.ordinal()].get();
    }

    /**
     * The exit summary of this route's fallbacks, one line without the "jvmem: " prefix, or null if nothing fell
     * back: how many requests and bytes, and how many of each for every reason.
     */
    String fallbackSummary() {
        long n = fallbacks.sum();
        if (n == 0) {
            return null;
        }
        StringBuilder b = new StringBuilder("route ").append(name()).append(": ").append(requests(n, fallbackBytes.get()))
                .append(" fell back to the JDK (DRAM):");
        String sep = " ";
        for (Fallback f : Fallback.values()) {
            long k = fallbacks(f);
            if (k > 0) {
                b.append(sep).append(requests(k, fallbackBytes(f))).append(" when pool ").append(spec.pool())
                        .append(" was ").append(f.why);
                sep = "; ";
            }
        }
        return b.toString();
    }

    private static String requests(long n, long bytes) {
        return n + (n == 1 ? " request (" : " requests (") + Bytes.human(bytes) + ")";
    }

    /**
     * A byte count that stops at Long.MAX_VALUE: requests of any size can fall back (the JDK then refuses the
     * impossible ones), and two of Long.MAX_VALUE bytes summed as longs read as a negative total.
     */
    private static LongAccumulator bytes() {
        return new LongAccumulator((a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b, 0); // both ≥ 0
    }

    private static LongAccumulator[] byteCounts() {
        LongAccumulator[] a = new LongAccumulator[Fallback.values().length];
        for (int i = 0; i < a.length; i++) {
            a[i] = bytes();
        }
        return a;
    }

    private static LongAdder[] adders() {
        LongAdder[] a = new LongAdder[Fallback.values().length];
        for (int i = 0; i < a.length; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }
}
