package io.jvmem.agent;

import io.jvmem.agent.bridge.Hooks;
import io.jvmem.allocator.AllocationTag;
import io.jvmem.allocator.InvalidFreeException;
import io.jvmem.allocator.MemoryPool;
import io.jvmem.allocator.PoolClosedException;
import io.jvmem.allocator.PoolErrorReason;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Method;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.LongAdder;

/**
 * The agent's side of the bridge: per call site, the route's pool, its policy (min-size, on-exhausted) and its tag.
 * Loaded by {@link BridgeInstaller} with its superclass renamed to {@code java.nio.JvmemHooks}; nothing names this
 * class directly.
 *
 * <p>A full pool while buffers wait to be reclaimed: {@link Reclaimer} waits for their cleaners and a shared
 * collection as the JDK does for direct memory ({@code Bits.reserveMemory}); with {@code on-exhausted=fail} it then
 * retries with doubling sleeps before throwing, with {@code fallback} the request goes to the JDK if that did not
 * help (and at once while collections back off from a pool full of live data). Every fallback is counted per route
 * and reason, and the first of each route is logged.
 */
final class HooksImpl extends Hooks {
    private final Sites sites;
    private final MemoryPool[] pools;
    /** Per pool: its transient blocks (see {@link Route#transients}), or null. */
    private final java.util.Set<Long>[] transients;
    private final AgentLog log;
    /** Cleaner actions that failed (a block already freed, a closed pool). */
    final LongAdder releaseErrors = new LongAdder();
    private final Reclaimer reclaimer;

    /** Run-time handles and reflective calls, routed like rewritten calls; made on first use (method handles cost start-up). */
    private volatile HandleRoutes handles;
    /** Downcall handles to libc's allocator; made on first use (the FFM linker's first use is slow). */
    private volatile DowncallRoutes downcalls;
    /** Rewrites hidden classes, which class-file transformers never see. */
    private final AgentTransformer transformer;

    HooksImpl(Sites sites, MemoryPool[] pools, java.util.Set<Long>[] transients, AgentLog log,
              ReferenceProcessing references, AgentTransformer transformer) {
        this.sites = sites;
        this.pools = pools.clone();
        this.transients = transients.clone();
        this.log = log;
        this.reclaimer = new Reclaimer(this.pools, references, SharedCollection.ofSystemGc());
        this.transformer = transformer;
    }

    /** Creates the hooks and connects the bridge to them, once; called directly by {@link BridgeInstaller}. */
    static HooksImpl connect(Sites sites, MemoryPool[] pools, java.util.Set<Long>[] transients, AgentLog log,
                             ReferenceProcessing references, AgentTransformer transformer, boolean viaConstructor) {
        HooksImpl h = new HooksImpl(sites, pools, transients, log, references, transformer);
        io.jvmem.agent.bridge.Bridge.connect(h, viaConstructor);
        return h;
    }

    static long releaseErrors(Object hooks) {
        return ((HooksImpl) hooks).releaseErrors.sum();
    }

    private HandleRoutes handles() {
        HandleRoutes h = handles;
        if (h == null) {
            synchronized (this) {
                h = handles;
                if (h == null) {
                    try {
                        handles = h = new HandleRoutes(sites, this);
                    } catch (ReflectiveOperationException e) {
                        throw new IllegalStateException("jvmem: the bridge is incomplete", e);
                    }
                }
            }
        }
        return h;
    }

    @Override
    public long allocateDirect(int site, int capacity) {
        return allocate(site, capacity, true);
    }

    @Override
    public long allocateMemory(int site, long size) {
        return allocate(site, size, false);
    }

    /**
     * A pool block for a rewritten call site, or 0 (the JDK serves it). Buffers are zeroed (the JDK contract) and, when
     * the pool is full, wait for unreachable buffers as the route says; Unsafe memory is neither.
     */
    private long allocate(int site, long size, boolean buffer) {
        return allocate(sites.get(site), size, MALLOC_ALIGNMENT, buffer, buffer);
    }

    /**
     * The one allocation path of every route: min-size, the pool, and when the pool is full either the wait for
     * reclaimable blocks (buffers and arena segments, which come back when unreachable or closed) or the route's
     * exhaustion policy (Unsafe and libc memory: only the program frees it).
     */
    private long allocate(Site s, long size, long alignment, boolean zero, boolean reclaimable) {
        long a = attempt(s, size, alignment, zero);
        if (a == FULL && reclaimable) {
            a = reclaim(s, size, alignment); // its attempts take the same kinds of block as the first
        } else if (a == FULL && failsAsLibc(s, size)) {
            return FULL;
        } else if (a == FULL) {
            exhausted(s, size, Route.Fallback.NOT_RECLAIMABLE);
            a = 0;
        }
        return served(s, a, size, alignment, zero);
    }

    /**
     * The first attempt of {@link #allocate}: the pool's block; 0, the JDK serves it (no route here, below min-size,
     * the pool closed at exit); or {@link #FULL}, with nothing waited for or counted yet.
     */
    private long attempt(Site s, long size, long alignment, boolean zero) {
        if (s == null) {
            return 0;
        }
        if (size < s.minSize) {
            s.route.belowMinSize.increment();
            return 0;
        }
        long a;
        try {
            if (alignment <= MALLOC_ALIGNMENT && s.arena) {
                a = s.typed.malloc(size); // typed: its Release gives the tag back (see releaseSegment)
            } else if (alignment <= MALLOC_ALIGNMENT) {
                a = zero ? s.pool.calloc(1, size, s.tag) : s.pool.malloc(size, s.tag);
            } else {
                a = s.pool.alignedAlloc(alignment, size, s.tag);
            }
        } catch (PoolClosedException e) {
            return 0;
        }
        return a != 0 ? a : FULL;
    }

    /** A block {@code a} (0: none) handed out: zeroed when asked and not yet, and recorded for exit and leaks. */
    private long served(Site s, long a, long size, long alignment, boolean zero) {
        if (a == 0) {
            return 0;
        }
        if (zero && (s.arena || alignment > MALLOC_ALIGNMENT)) { // the one kind not zeroed is calloc's
            s.pool.segment(a).asSlice(0, size).fill((byte) 0);
        }
        if (s.transients != null) {
            s.transients.add(a);
        }
        if (s.leaks != null) {
            s.leaks.allocated(s, a, size);
        }
        return a;
    }

    /** Waits for unreachable buffers to be released, then either serves the request or applies the route's policy. */
    private long reclaim(Site s, long capacity, long alignment) {
        if (largerThanPool()) {
            exhausted(s, capacity, Route.Fallback.LARGER_THAN_POOL); // no collection can make room for it
            return 0;
        }
        long a;
        Route.Fallback why = Route.Fallback.RECLAIM_FAILED;
        Object wait = AgentEvents.beginWait();
        try {
            if (s.route.fail) {
                a = reclaimer.untilReleased(s, capacity, alignment);
            } else {
                long ticket = reclaimer.ticket();
                a = reclaimer.pending(s, capacity, alignment);
                if (a == 0 && reclaimer.backingOff(s.pool, capacity)) {
                    why = Route.Fallback.BACKED_OFF;
                } else if (a == 0) {
                    a = reclaimer.collectAndRetry(s, capacity, alignment, ticket);
                }
            }
        } catch (PoolClosedException e) {
            return 0;
        }
        AgentEvents.endWait(wait, s, capacity, a != 0);
        if (a == 0) {
            exhausted(s, capacity, why); // throws OutOfMemoryError for on-exhausted=fail
        }
        return a;
    }

    /** The JDK thread that runs cleaners of unreachable buffers. */
    private static volatile Thread referenceHandler;

    /** The JDK's common cleaner, once seen. */
    private static volatile Thread commonCleaner;

    /**
     * The JDK's common cleaner runs the cleanups of unreachable {@code Arena.ofAuto()} sessions; it never allocates.
     * Its name is compared until it is first seen, then only its identity.
     */
    private static boolean isCleanerThread(Thread t) {
        Thread c = commonCleaner;
        if (c == null && t.getName().equals("Common-Cleaner")) {
            commonCleaner = c = t;
        }
        return t == c;
    }

    private static boolean isReferenceHandler(Thread t) {
        Thread rh = referenceHandler;
        if (rh == null && t.getName().equals("Reference Handler")) {
            referenceHandler = rh = t;
        }
        return t == rh;
    }

    @Override
    public ByteBuffer wrap(long address, int capacity) {
        return MemorySegment.ofAddress(address).reinterpret(capacity, Arena.ofAuto(), seg -> release(address)).asByteBuffer();
    }

    private int ownerIndex(long address) {
        for (int i = 0; i < pools.length; i++) {
            if (pools[i].contains(address)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public boolean free(long address) {
        int i = ownerIndex(address);
        if (i < 0) {
            return false;
        }
        pools[i].free(address);
        reclaimer.released(i);
        if (transients[i] != null) {
            transients[i].remove(address);
        }
        Leaks leaks = sites.leaks;
        if (leaks != null) {
            leaks.freed(address);
        }
        return true;
    }

    @Override
    public boolean owns(long address) {
        return ownerIndex(address) >= 0;
    }

    @Override
    public long reallocate(int site, long address, long size) {
        int i = ownerIndex(address);
        MemoryPool p = pools[i];
        Site s = sites.get(site);
        AllocationTag tag = s != null && s.pool == p ? s.tag : AllocationTag.UNTAGGED;
        long r = p.realloc(address, size, tag);
        if (r != 0 && transients[i] != null && transients[i].remove(address)) {
            transients[i].add(r);
        }
        Leaks leaks = sites.leaks;
        if (leaks != null) {
            if (r != 0) {
                leaks.moved(address, r, size);
            } else if (size == 0) {
                leaks.freed(address);
            }
        }
        return r;
    }

    @Override
    public long usableSize(long address) {
        return pools[ownerIndex(address)].usableSize(address);
    }

    @Override
    public boolean exhausted(int site, long size) {
        Site s = sites.get(site);
        if (s == null) {
            return false; // a pool block resized outside any route: the bridge moves it to the JDK
        }
        if (failsAsLibc(s, size)) {
            return true;
        }
        exhausted(s, size, Route.Fallback.NOT_RECLAIMABLE);
        return false;
    }

    /**
     * Whether the full pool fails a libc call at {@code s} as libc would (on-exhausted=fail at a libc site): counted
     * as a failure, and said once per route at log=warn, as the OutOfMemoryError says it for the JDK's calls.
     */
    private boolean failsAsLibc(Site s, long size) {
        if (!s.libc || !s.route.fail) {
            return false;
        }
        s.route.failures.increment();
        log.onceWarn("exhausted:" + s.route.name(), "route " + s.route.name() + ": pool " + s.pool.name() + " has no room for "
                + size + " bytes at " + s.name + ", so the libc call returns NULL with errno ENOMEM (on-exhausted=fail); "
                + "the report counts the rest as failures");
        return true;
    }

    /** The pool could not serve {@code size} bytes for {@code s}: OutOfMemoryError, or a counted fallback. */
    private void exhausted(Site s, long size, Route.Fallback why) {
        if (largerThanPool()) {
            why = Route.Fallback.LARGER_THAN_POOL;
        }
        String fileSystem = why == Route.Fallback.LARGER_THAN_POOL ? "" : fileSystemFull();
        if (s.route.fail) {
            s.route.failures.increment();
            if (why == Route.Fallback.LARGER_THAN_POOL) {
                throw new OutOfMemoryError("jvmem: request of " + size + " bytes at " + s.name + " (route " + s.route.name()
                        + ") is larger than pool " + s.pool.name() + " can hold (" + s.pool.size() + " bytes in all): "
                        + MemoryPool.lastError()); // the pool's own words: an alignment no address can meet says so
            }
            long inUse = -1;
            try {
                inUse = s.pool.stats().allocated();
            } catch (RuntimeException ignored) {
                // a closed pool
            }
            throw new OutOfMemoryError("jvmem: pool " + s.pool.name() + " is exhausted: request of " + size + " bytes at "
                    + s.name + " (route " + s.route.name() + "); " + inUse + " of " + s.pool.size() + " bytes in use"
                    + fileSystem);
        }
        if (!fileSystem.isEmpty()) {
            why = Route.Fallback.FILE_SYSTEM_FULL;
        }
        s.route.fellBack(why, size);
        AgentEvents.fallback(s, size, why);
        log.onceWarn("exhausted:" + s.route.name(), "route " + s.route.name() + " fell back to the JDK (DRAM) for the "
                + "first time: pool " + s.pool.name() + " was " + why.why + " (" + size + " bytes at " + s.name + ")"
                + fileSystem + "; the exit summary counts the rest");
    }

    /** Whether the request that just failed on this thread is larger than its pool's whole heap (the allocator's reason). */
    private static boolean largerThanPool() {
        return MemoryPool.lastErrorReason() == PoolErrorReason.TOO_LARGE;
    }

    /** The reason, when the pool could not grow into its file (the file system filled up after the pool was made). */
    private static String fileSystemFull() {
        return MemoryPool.lastErrorReason() == PoolErrorReason.NO_SPACE ? "; " + MemoryPool.lastError() : "";
    }

    @Override
    public void release(long address) {
        try {
            int i = ownerIndex(address);
            if (i >= 0) {
                if (transients[i] != null && !transients[i].remove(address)) {
                    return; // a cto pool's transient block already returned at exit
                }
                MemoryPool p = pools[i];
                p.free(address);
                reclaimer.released(i);
                if (reclaimer.underPressure() || isReferenceHandler(Thread.currentThread()) || isCleanerThread(Thread.currentThread())) {
                    p.flushThreadCache(); // that thread never allocates: blocks cached there would be lost to the pool
                }
            }
        } catch (PoolClosedException e) {
            // the pool was closed at exit; the process is ending
        } catch (Throwable t) {
            releaseErrors.increment();
            log.onceWarn("release", "a buffer's block could not be returned to its pool: " + t);
        }
    }

    @Override
    public Object site(int site) {
        return sites.get(site);
    }

    /**
     * The cleanup of a typed arena segment: its block goes back with its site's tag, which the pool did not record
     * (malloc(9)'s typed free). A block the program already freed through another path (Unsafe.freeMemory, a libc
     * free downcall: both pool-aware, untyped) was counted back as untagged there; its typed free here is refused as
     * a double free, and the release error is counted and reported once, naming the site. If the pool had handed the
     * block out again meanwhile, this frees the new owner's block: the same program under the JDK frees twice too.
     */
    @Override
    public void releaseSegment(long address, Object site, boolean confined) {
        Site s = (Site) site;
        if (confined && s.typedSegments) { // the common case, kept short: the rest is out of line
            if (freeTyped(s, address) && reclaimer.underPressure()) {
                released(s);
            }
            return;
        }
        releaseSegmentOtherwise(address, s, confined);
    }

    private void releaseSegmentOtherwise(long address, Site s, boolean confined) {
        if (s.transients != null && !s.transients.remove(address)) {
            return; // a cto pool's transient block already returned at exit
        }
        if (!freeTyped(s, address)) {
            return;
        }
        boolean cleaner = !confined && isCleanerThread(Thread.currentThread()); // an ofAuto arena's segment
        if (cleaner) {
            reclaimer.releasedByCleaner(s.pool);
        }
        if (reclaimer.underPressure()) {
            released(s);
        } else if (cleaner) {
            s.pool.flushThreadCache(); // that thread never allocates: blocks cached there would be lost to the pool
        }
    }

    /** The typed free of a segment's block; false, the failure counted and reported, if the pool refused it. */
    private boolean freeTyped(Site s, long address) {
        try {
            s.typed.free(address);
            return true;
        } catch (Throwable e) {
            releaseFailed(s, e);
            return false;
        }
    }

    /** A segment's block came back while a thread waits for memory: counted, and handed to the pool at once. */
    private void released(Site s) {
        try {
            reclaimer.released(s.pool);
            s.pool.flushThreadCache();
        } catch (Throwable e) {
            releaseFailed(s, e);
        }
    }

    private void releaseFailed(Site s, Throwable e) {
        if (e instanceof PoolClosedException) {
            return; // the pool was closed at exit; the process is ending
        }
        releaseErrors.increment();
        if (e instanceof InvalidFreeException) {
            log.onceWarn("segment:" + s.id, "a segment allocated at " + s.name + " was freed before its arena closed, "
                    + "through another path (Unsafe.freeMemory, a libc free): its arena's close found it free ("
                    + e.getMessage() + "); the site's bytes in use stay counted high by the block");
        } else {
            log.onceWarn("release", "a buffer's block could not be returned to its pool: " + e);
        }
    }

    @Override
    public long allocateSegment(Object site, long size, long alignment) {
        Site s = (Site) site;
        if (s != null && s.typedSegments && alignment <= MALLOC_ALIGNMENT && size > 0 && size >= s.minSize) {
            // the common case, kept short: a typed block (its Release gives the tag back), zeroed by the bridge
            long a;
            try {
                a = s.typed.malloc(null, size, true); // the bridge zeroes it, key word included
            } catch (PoolClosedException e) {
                return 0;
            }
            return a != 0 ? a : FULL; // the bridge checks the arena before anything waits or counts
        }
        size = Math.max(size, 1); // size 0: a distinct address
        long a = attempt(s, size, alignment, false);
        if (a == FULL && !s.arena) { // not reclaimable: only the program frees what it allocated (not so for arenas)
            exhausted(s, size, Route.Fallback.NOT_RECLAIMABLE);
            return 0;
        }
        return a == FULL ? FULL : served(s, a, size, alignment, false);
    }

    @Override
    public long reclaimSegment(Object site, long size, long alignment) {
        Site s = (Site) site;
        size = Math.max(size, 1);
        // arena segments come back when their arena closes or (ofAuto) becomes unreachable
        return served(s, reclaim(s, size, alignment), size, alignment, false);
    }

    @Override
    public long allocateSegment(int site, long size, long alignment, boolean zero) {
        Site s = sites.get(site);
        // arena segments come back when their arena closes or (ofAuto) becomes unreachable; libc memory does not
        return allocate(s, Math.max(size, 1), alignment, zero, s != null && s.arena); // a distinct address for size 0
    }

    @Override
    public void global(int site, long address, long size) {
        Leaks leaks = sites.leaks;
        Site s = sites.get(site);
        if (leaks != null && s != null) {
            leaks.allocated(s, address, size);
        }
    }

    /** Every pool block is aligned to this (the allocator's quantum); larger alignments take alignedAlloc. */
    static final long MALLOC_ALIGNMENT = TYPED_ALIGNMENT;

    @Override
    public MethodHandle routeHandle(MethodHandle mh, Class<?> refc, String name, boolean special, int site) {
        return handles().routeHandle(mh, refc, name, special, site);
    }

    @Override
    public MethodHandle routeBound(MethodHandle mh, Object receiver, String name, int site) {
        return handles().routeBound(mh, receiver, name, site);
    }

    @Override
    public MethodHandle routeRow(MethodHandle mh, int row, int site) {
        return handles().routeRow(mh, row, site);
    }

    @Override
    public Method reflectTarget(Method m, Object receiver, int site) {
        if (m.getName().equals("downcallHandle") && java.lang.foreign.Linker.class.isAssignableFrom(m.getDeclaringClass())
                && (handles().takes(site, AgentConfig.Call.DOWNCALL) || handles().takes(site, AgentConfig.Call.ARENA))) {
            // caller-sensitive (restricted): a stand-in would change whose native access is checked, so the call stays
            unroutedAt(site, "Method.invoke of java.lang.foreign.Linker.downcallHandle (its handles are pool-aware; what "
                    + "they allocate, libc blocks and returned structs, is not routed)");
        }
        HandleRoutes.Reflected r = handles().reflect(m, receiver, site);
        return r == null ? m : r.method();
    }

    @Override
    public Object reflectReceiver(Method m, Object receiver, int site) {
        HandleRoutes.Reflected r = handles().reflect(m, receiver, site);
        return r == null ? receiver : r.receiver();
    }

    @Override
    public MethodHandle routeDowncall(MethodHandle mh, long function, FunctionDescriptor fd,
                                      java.lang.foreign.Linker.Option[] options, int site) {
        try {
            DowncallRoutes d = downcalls;
            if (d == null) {
                synchronized (this) {
                    d = downcalls;
                    if (d == null) {
                        downcalls = d = new DowncallRoutes(handles());
                    }
                }
            }
            MethodHandle struct = site == 0 ? null : d.structReturn(mh, fd, site); // site 0: not selected
            if (struct != null) {
                return struct;
            }
            if (function != 0 && !d.isLibcAllocator(function)) {
                return mh;
            }
            // critical(true): the JDK passes heap segments to the function (options were checked by the JDK already)
            boolean heap = options != null && java.util.Arrays.asList(options).contains(java.lang.foreign.Linker.Option.critical(true));
            return d.route(mh, function, fd, heap, site, way -> unroutedAt(site, way));
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.onceWarn("downcall", "a downcall handle could not be made pool-aware; it is left as made: " + e);
            return mh;
        }
    }

    /** Reports, once per class and way, a way the selected class at {@code site} reached memory that is not routed. */
    private void unroutedAt(int site, String way) {
        Site s = sites.get(site);
        if (s != null) {
            transformer.unrouted(s.name.substring(0, s.name.lastIndexOf('.', s.name.indexOf('('))), way + " at " + s.name, s.route);
        }
    }

    @Override
    public byte[] rewriteHidden(Class<?> lookupClass, byte[] bytes) {
        byte[] out = transformer.rewriteHidden(lookupClass, bytes);
        return out != null ? out : bytes;
    }
}
