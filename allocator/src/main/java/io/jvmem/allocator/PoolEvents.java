package io.jvmem.allocator;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * jvmem's JFR events of the allocator, category "jvmem", names {@code io.jvmem.*}. Each is enabled by default. No
 * event class is touched until Flight Recorder has been initialised in this JVM (a recording was started, from the
 * command line, jcmd or the API): the first use of an event class initialises JFR's metadata, which costs hundreds of
 * milliseconds, and that must not land on a program's start-up or on its first full pool. After that an event costs
 * a disabled check when no recording wants it ({@code shouldCommit}). The allocation sample is throttled to one per
 * {@link #SAMPLE_PERIOD_NANOS} across the JVM, like {@code jdk.ObjectAllocationSample}.
 */
final class PoolEvents {
    /** At most one allocation sample per 10 ms (100 a second) while a recording runs. */
    static final long SAMPLE_PERIOD_NANOS = 10_000_000;
    /**
     * An allocation is a candidate for a sample with probability size / SAMPLE_BYTES (one per 512 KiB allocated on
     * average, as jemalloc's prof sampling; anything larger always), so the clock is read for few of them: reading it
     * on every allocation doubled the cost of malloc+free while recording.
     */
    static final long SAMPLE_BYTES = 512 * 1024;
    private static volatile long nextSample;

    private PoolEvents() {
    }

    /** Whether Flight Recorder is up in this JVM: one volatile read, and no event class loaded. */
    static boolean on() {
        return FlightRecorder.isInitialized();
    }

    @Name("io.jvmem.PoolCreated") @Label("Pool Created") @Category("jvmem") @StackTrace(false)
    static final class Created extends Event {
        @Label("Pool") String pool;
        @Label("Kind") String kind;
        @Label("Path") String path;
        @Label("Size") @DataAmount long size;
    }

    @Name("io.jvmem.PoolOpened") @Label("Pool Opened") @Category("jvmem") @StackTrace(false)
    @Description("A close-to-open pool file opened with its contents")
    static final class Opened extends Event {
        @Label("Pool") String pool;
        @Label("Path") String path;
        @Label("Size") @DataAmount long size;
        @Label("In Use") @DataAmount long inUse;
    }

    @Name("io.jvmem.PoolClosed") @Label("Pool Closed") @Category("jvmem") @StackTrace(false)
    static final class Closed extends Event {
        @Label("Pool") String pool;
        @Label("Kind") String kind;
        @Label("In Use") @DataAmount long inUse;
        @Label("Peak In Use") @DataAmount long peak;
    }

    @Name("io.jvmem.PoolExhausted") @Label("Pool Exhausted") @Category("jvmem")
    @Description("An allocation the pool could not serve")
    static final class Exhausted extends Event {
        @Label("Pool") String pool;
        @Label("Request") @DataAmount long request;
        @Label("Reason") String reason;
    }

    @Name("io.jvmem.Purge") @Label("Pool Purge") @Category("jvmem") @StackTrace(false)
    @Description("Free pages returned to the file system")
    static final class Purge extends Event {
        @Label("Pool") String pool;
        @Label("Bytes") @DataAmount long bytes;
    }

    @Name("io.jvmem.InvalidFree") @Label("Invalid Free") @Category("jvmem")
    @Description("A free or resize of something that is not a live block, refused")
    static final class InvalidFree extends Event {
        @Label("Pool") String pool;
        @Label("Operation") String operation;
        @Label("Address") long address;
        @Label("Reason") String reason;
    }

    @Name("io.jvmem.AllocationSample") @Label("Pool Allocation Sample") @Category("jvmem")
    @Description("A sampled pool allocation, at most 100 a second")
    static final class AllocationSample extends Event {
        @Label("Pool") String pool;
        @Label("Size") @DataAmount long size;
        @Label("Tag") String tag;
    }

    static void created(PoolBase p, String kind) {
        if (!on()) {
            return;
        }
        Created e = new Created();
        if (e.shouldCommit()) {
            e.pool = p.name();
            e.kind = kind;
            e.path = p.path();
            e.size = p.size();
            e.commit();
        }
    }

    static void opened(PoolBase p) {
        if (!on()) {
            return;
        }
        Opened e = new Opened();
        if (e.shouldCommit()) {
            e.pool = p.name();
            e.path = p.path();
            e.size = p.size();
            e.inUse = StatsCollector.collect(p.heap).allocated();
            e.commit();
        }
    }

    static void closed(PoolBase p, String kind, long inUse, long peak) {
        if (!on()) {
            return;
        }
        Closed e = new Closed();
        if (e.shouldCommit()) {
            e.pool = p.name();
            e.kind = kind;
            e.inUse = inUse;
            e.peak = peak;
            e.commit();
        }
    }

    static void exhausted(String pool, long request, PoolErrorReason reason) {
        if (!on()) {
            return;
        }
        Exhausted e = new Exhausted();
        if (e.shouldCommit()) {
            e.pool = pool;
            e.request = request;
            e.reason = reason.name();
            e.commit();
        }
    }

    /** A purge starting: its event, or null when Flight Recorder is not up (typed Object so callers load no JFR class). */
    static Object beginPurge() {
        if (!on()) {
            return null;
        }
        Purge e = new Purge();
        e.begin();
        return e;
    }

    static void endPurge(Object started, String pool, long bytes) {
        if (started instanceof Purge e && bytes > 0) {
            e.end();
            if (e.shouldCommit()) {
                e.pool = pool;
                e.bytes = bytes;
                e.commit();
            }
        }
    }

    static void invalidFree(String pool, String op, long address, String why) {
        if (!on()) {
            return;
        }
        InvalidFree e = new InvalidFree();
        if (e.shouldCommit()) {
            e.pool = pool;
            e.operation = op;
            e.address = address;
            e.reason = why;
            e.commit();
        }
    }

    /** Called after each successful allocation of the public API: nearly free unless a recording runs. */
    static void sample(PoolBase p, long size, AllocationTag tag) {
        if (!on()) {
            return;
        }
        if (size < SAMPLE_BYTES && java.util.concurrent.ThreadLocalRandom.current().nextLong(SAMPLE_BYTES) >= size) {
            return;
        }
        AllocationSample e = new AllocationSample();
        if (!e.isEnabled()) {
            return;
        }
        long now = System.nanoTime();
        long next = nextSample;
        if (now - next < 0) {
            return;
        }
        nextSample = now + SAMPLE_PERIOD_NANOS; // a race lets two through at worst
        if (e.shouldCommit()) {
            e.pool = p.name();
            e.size = size;
            e.tag = tag == null ? "" : tag.name();
            e.commit();
        }
    }
}
