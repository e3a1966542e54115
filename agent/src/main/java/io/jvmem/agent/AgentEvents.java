package io.jvmem.agent;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * The agent's JFR events, category "jvmem" beside the allocator's: a request that went to the JDK (with the stack of
 * the call that made it) and the time a request waited for unreachable buffers to come back. Each costs a disabled
 * check when no recording runs; both are on slow paths.
 */
final class AgentEvents {
    private AgentEvents() {
    }

    @Name("io.jvmem.Fallback") @Label("Fallback to DRAM") @Category("jvmem")
    @Description("A request the pool could not serve went to the JDK")
    static final class Fallback extends Event {
        @Label("Pool") String pool;
        @Label("Route") String route;
        @Label("Site") String site;
        @Label("Bytes") @DataAmount long bytes;
        @Label("Reason") String reason;
    }

    @Name("io.jvmem.ReclaimWait") @Label("Reclaim Wait") @Category("jvmem") @StackTrace(false)
    @Description("A request waited for unreachable buffers to return to a full pool")
    static final class ReclaimWait extends Event {
        @Label("Pool") String pool;
        @Label("Route") String route;
        @Label("Bytes") @DataAmount long bytes;
        @Label("Served") boolean served;
    }

    static void fallback(Site s, long bytes, Route.Fallback why) {
        if (!FlightRecorder.isInitialized()) {
            return;
        }
        Fallback e = new Fallback();
        if (e.shouldCommit()) {
            e.pool = s.pool.name();
            e.route = s.route.name();
            e.site = s.name;
            e.bytes = bytes;
            e.reason = why.key;
            e.commit();
        }
    }

    /** A wait starting: its event, or null when Flight Recorder is not up (typed Object: the caller loads no JFR class). */
    static Object beginWait() {
        if (!FlightRecorder.isInitialized()) {
            return null;
        }
        ReclaimWait e = new ReclaimWait();
        e.begin();
        return e;
    }

    static void endWait(Object started, Site s, long bytes, boolean served) {
        if (!(started instanceof ReclaimWait e)) {
            return;
        }
        e.end();
        if (e.shouldCommit()) {
            e.pool = s.pool.name();
            e.route = s.route.name();
            e.bytes = bytes;
            e.served = served;
            e.commit();
        }
    }
}
