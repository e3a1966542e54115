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
    final boolean allocateDirect;
    final boolean allocateMemory;
    final boolean fail;
    /** Requests the pool could not serve that went to the JDK instead. */
    final LongAdder fallbacks = new LongAdder();
    /** Requests refused with OutOfMemoryError (on-exhausted=fail). */
    final LongAdder failures = new LongAdder();
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
        this.allocateDirect = spec.calls().contains(Call.ALLOCATE_DIRECT);
        this.allocateMemory = spec.calls().contains(Call.ALLOCATE_MEMORY);
        this.fail = spec.onExhausted() == OnExhausted.FAIL;
    }

    String name() {
        return spec.name();
    }
}
