package io.jvmem.agent;

import io.jvmem.agent.AgentConfig.Call;
import io.jvmem.agent.AgentConfig.OnExhausted;
import io.jvmem.agent.AgentConfig.RouteSpec;
import io.jvmem.allocator.MemoryPool;
import java.util.concurrent.atomic.LongAdder;

/** A configured route bound to its pool, with the counters that only slow paths touch. */
final class Route {
    final RouteSpec spec;
    final MemoryPool pool;
    /** The kinds of allocation this route takes ({@code calls}). */
    final java.util.Set<Call> calls;
    final boolean fail;
    /** Requests the pool could not serve that went to the JDK instead. */
    final LongAdder fallbacks = new LongAdder();
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
}
