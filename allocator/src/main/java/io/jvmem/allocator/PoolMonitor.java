package io.jvmem.allocator;

import java.lang.management.BufferPoolMXBean;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The pool's JMX view: its {@link PoolMXBean}, and a {@link BufferPoolMXBean} ({@code java.nio:type=BufferPool,
 * name=jvmem.<pool>}) so that tools watching the JDK's direct and mapped pools see pool memory too: Count is live
 * blocks, TotalCapacity their usable bytes, MemoryUsed the pages they take. Reads after close give the last snapshot.
 */
final class PoolMonitor implements PoolMXBean {
    private final PoolBase pool;
    private final String kind;
    /** No fallbacks: a library pool. Not a lambda: its bootstrap would cost every pool creation at start-up. */
    private static final LongSupplier NONE = new LongSupplier() {
        @Override
        public long getAsLong() {
            return 0;
        }
    };
    private volatile LongSupplier fallbacks = NONE;
    /** The statistics when the pool closed; null while open. */
    private volatile PoolStats last;
    private volatile long lastFallbacks;

    PoolMonitor(PoolBase pool, String kind) {
        this.pool = pool;
        this.kind = kind;
    }

    void fallbacksFrom(LongSupplier counter) {
        this.fallbacks = counter;
    }

    /** Keeps the final values; called before the pool shuts down. */
    void closing() {
        try {
            lastFallbacks = fallbacks.getAsLong();
            last = StatsCollector.collect(pool.heap);
        } catch (RuntimeException e) {
            last = null;
        }
    }

    /** How long one snapshot serves reads: a client reading every attribute takes one snapshot, not thirteen. */
    static final long SNAPSHOT_NANOS = 100_000_000;
    private volatile PoolStats snapshot;
    private volatile long snapshotAt;

    private PoolStats stats() {
        PoolStats s = last;
        if (s != null) {
            return s;
        }
        try {
            PoolStats recent = snapshot;
            long now = System.nanoTime();
            if (recent != null && now - snapshotAt < SNAPSHOT_NANOS) {
                return recent;
            }
            recent = pool.stats();
            snapshotAt = now;
            snapshot = recent;
            return recent;
        } catch (PoolClosedException e) {
            PoolStats l = last;
            if (l != null) {
                return l;
            }
            throw e;
        }
    }

    String objectName() {
        return "io.jvmem:type=Pool,name=" + Mbeans.quoteIfNeeded(pool.name());
    }

    String bufferPoolName() {
        return "java.nio:type=BufferPool,name=" + Mbeans.quoteIfNeeded("jvmem." + pool.name());
    }

    @Override
    public String getName() {
        return pool.name();
    }

    @Override
    public String getKind() {
        return kind;
    }

    @Override
    public String getPath() {
        return pool.path();
    }

    @Override
    public long getSize() {
        return pool.size();
    }

    @Override
    public long getUsable() {
        return stats().usable();
    }

    @Override
    public long getInUse() {
        return stats().allocated();
    }

    @Override
    public long getPeak() {
        return stats().peakAllocated();
    }

    @Override
    public long getAllocations() {
        return stats().mallocs();
    }

    @Override
    public long getFrees() {
        return stats().frees();
    }

    @Override
    public long getFallbacks() {
        return last != null ? lastFallbacks : fallbacks.getAsLong();
    }

    @Override
    public long getPurgedBytes() {
        return stats().purged();
    }

    @Override
    public Map<String, Long> getNumaPages() {
        return last != null ? Map.of() : NumaMaps.pagesPerNode(pool.heap.base);
    }

    @Override
    public boolean isOpen() {
        return last == null && !pool.heap.isClosed();
    }

    @Override
    public String check() {
        if (!isOpen()) {
            return "NOT_CHECKED\npool " + pool.name() + " is closed";
        }
        PoolCheck c = pool.check();
        return c.problems().isEmpty() ? c.status().name() : c.status() + "\n" + String.join("\n", c.problems());
    }

    @Override
    public String statsPrint(String opts) {
        return isOpen() ? pool.statsPrint(opts) : "pool " + pool.name() + " is closed\n";
    }

    /** The pool as one of the JDK's buffer pools. */
    BufferPoolMXBean bufferPool() {
        return new BufferPoolMXBean() {
            @Override
            public String getName() {
                return "jvmem." + pool.name();
            }

            @Override
            public long getCount() {
                PoolStats s = stats();
                return s.mallocs() - s.frees();
            }

            @Override
            public long getTotalCapacity() {
                return stats().allocated();
            }

            @Override
            public long getMemoryUsed() {
                return stats().active();
            }

            @Override
            public javax.management.ObjectName getObjectName() {
                return Mbeans.Server.name(bufferPoolName());
            }
        };
    }
}
