package io.jvmem.agent;

import io.jvmem.agent.bridge.Hooks;
import io.jvmem.allocator.AllocationTag;
import io.jvmem.allocator.MemoryPool;
import io.jvmem.allocator.PoolClosedException;
import java.lang.foreign.Arena;
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

    HooksImpl(Sites sites, MemoryPool[] pools, java.util.Set<Long>[] transients, AgentLog log,
              ReferenceProcessing references) {
        this.sites = sites;
        this.pools = pools.clone();
        this.transients = transients.clone();
        this.log = log;
        this.reclaimer = new Reclaimer(this.pools, references, SharedCollection.ofSystemGc());
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
        Site s = sites.get(site);
        if (s == null) {
            return 0;
        }
        if (size < s.minSize) {
            s.route.belowMinSize.increment();
            return 0;
        }
        long a;
        try {
            a = buffer ? s.pool.calloc(1, size, s.tag) : s.pool.malloc(size, s.tag);
        } catch (PoolClosedException e) {
            return 0;
        }
        if (a == 0) {
            if (buffer) {
                a = reclaim(s, size);
            } else {
                exhausted(s, size, Route.Fallback.NOT_RECLAIMABLE);
            }
        }
        if (a != 0 && s.transients != null) {
            s.transients.add(a);
        }
        return a;
    }

    /** Waits for unreachable buffers to be released, then either serves the request or applies the route's policy. */
    private long reclaim(Site s, long capacity) {
        long a;
        Route.Fallback why = Route.Fallback.RECLAIM_FAILED;
        try {
            if (s.route.fail) {
                a = reclaimer.untilReleased(s, capacity);
            } else {
                long ticket = reclaimer.ticket();
                a = reclaimer.pending(s, capacity);
                if (a == 0 && reclaimer.backingOff(s.pool)) {
                    why = Route.Fallback.BACKED_OFF;
                } else if (a == 0) {
                    a = reclaimer.collectAndRetry(s, capacity, ticket);
                }
            }
        } catch (PoolClosedException e) {
            return 0;
        }
        if (a == 0) {
            exhausted(s, capacity, why); // throws OutOfMemoryError for on-exhausted=fail
        }
        return a;
    }

    /** The JDK thread that runs cleaners of unreachable buffers. */
    private static volatile Thread referenceHandler;

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
        return r;
    }

    @Override
    public long usableSize(long address) {
        return pools[ownerIndex(address)].usableSize(address);
    }

    @Override
    public void exhausted(int site, long size) {
        Site s = sites.get(site);
        if (s == null) {
            return; // a pool block resized outside any route: the bridge moves it to the JDK
        }
        exhausted(s, size, Route.Fallback.NOT_RECLAIMABLE);
    }

    /** The pool could not serve {@code size} bytes for {@code s}: OutOfMemoryError, or a counted fallback. */
    private void exhausted(Site s, long size, Route.Fallback why) {
        String fileSystem = fileSystemFull();
        if (s.route.fail) {
            s.route.failures.increment();
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
        log.onceWarn("exhausted:" + s.route.name(), "route " + s.route.name() + " fell back to the JDK (DRAM) for the "
                + "first time: pool " + s.pool.name() + " was " + why.why + " (" + size + " bytes at " + s.name + ")"
                + fileSystem + "; the exit summary counts the rest");
    }

    /** The reason, when the pool could not grow into its file (the file system filled up after the pool was made). */
    private static String fileSystemFull() {
        String why = MemoryPool.lastError();
        return why.contains("cannot reserve") ? "; " + why : "";
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
                if (reclaimer.underPressure() || isReferenceHandler(Thread.currentThread())) {
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
}
