package io.jvmem.agent;

import io.jvmem.allocator.AllocationTag;
import io.jvmem.allocator.MemoryPool;

/**
 * One rewritten allocation call site. Its pool allocations carry its own {@link AllocationTag}, so the pool's typed
 * statistics give the site's allocations, bytes and bytes in use at no cost on the fast path.
 */
final class Site {
    final int id;
    /** {@code pkg.Class.method(File.java:line)} */
    final String name;
    final String call;
    final Route route;
    final MemoryPool pool;
    final AllocationTag tag;
    final long minSize;
    final java.util.Set<Long> transients;
    /** An arena site: its segments come back when their arena closes or becomes unreachable, so a full pool can wait. */
    final boolean arena;
    /**
     * A libc allocation site (a downcall to malloc and its kin): when its route says fail, a full pool fails the call as
     * libc does (NULL, ENOMEM), since a C-style caller checks for NULL, not for an Error.
     */
    final boolean libc;
    /** An arena site's blocks up to the quantum's alignment are typed under its tag (HooksImpl.releaseSegment); else null. */
    final io.jvmem.allocator.TypedAllocator typed;
    /** An arena site with nothing to track per block (no cto transients, no leak report): its fast path. */
    final boolean typedSegments;
    /** For a lookup or Method.invoke site: the id of the site recording each kind of call reached through it, 0 if none yet. */
    final int[] derived = new int[AgentConfig.Call.values().length];

    /** A {@code Lookup} call or {@code Method.invoke}: it allocates nothing itself; what it reaches gets its own site. */
    boolean indirect() {
        return call.equals("handle") || call.equals("reflect");
    }

    /**
     * Where this site's live blocks are tracked for the leak report: set for the explicit-release calls (Unsafe,
     * libc through downcalls) when leak detection is on, else null.
     */
    final Leaks leaks;

    Site(int id, String name, String call, Route route) {
        this(id, name, call, route, null);
    }

    Site(int id, String name, String call, Route route, Leaks leaks) {
        this.id = id;
        this.name = name;
        this.call = call;
        this.route = route;
        this.pool = route.pool;
        this.tag = indirect() ? AllocationTag.UNTAGGED : AllocationTag.define("site:" + call + ":" + name, call + " at " + name);
        this.minSize = route.spec.minSize();
        this.transients = route.transients;
        this.arena = call.equals(AgentConfig.Call.ARENA.configName);
        this.libc = call.equals(AgentConfig.Call.DOWNCALL.configName);
        this.leaks = leaks != null && Leaks.explicitRelease(call) ? leaks : null;
        this.typed = arena && pool != null ? pool.typed(tag) : null;
        this.typedSegments = typed != null && transients == null && this.leaks == null;
    }
}
