package io.jvmem.allocator;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The flags of FreeBSD's malloc(9) as an immutable value: {@link #M_ZERO}, {@link #M_NOWAIT} or
 * {@link #waitOk(Duration) M_WAITOK}, and {@link #M_NODUMP}. Combine them with {@link #and(MallocFlags)}, for example
 * {@code MallocFlags.M_ZERO.and(MallocFlags.waitOk(Duration.ofSeconds(2)))}. Thread-safe (immutable).
 *
 * <ul>
 *   <li>{@code M_ZERO}: malloc(9) "causes the allocated memory to be set to all zeros".</li>
 *   <li>{@code M_NOWAIT} (the default when no wait is asked): return 0 at once when the request cannot be met
 *       ("return NULL if the request cannot be immediately fulfilled").</li>
 *   <li>{@code M_WAITOK}: wait for other threads to free memory. malloc(9) sleeps without limit and "cannot return
 *       NULL"; here the wait is bounded by a timeout, after which the call returns 0 with the reason of the last
 *       attempt ({@link PoolErrorReason#OUT_OF_MEMORY} or {@link PoolErrorReason#NO_SPACE}). Only those two reasons
 *       are waited on: a request larger than the pool ({@link PoolErrorReason#TOO_LARGE}) or a bad argument fails at
 *       once.</li>
 *   <li>{@code M_NODUMP}: malloc(9) "causes the allocated memory to be excluded from kernel core dumps". A pool
 *       created with {@link PoolOptions#noDump()} keeps all its memory out of core dumps (MADV_DONTDUMP), so it
 *       satisfies the flag; a pool without it refuses such a request with 0 and {@link PoolErrorReason#BAD_ARGUMENT}
 *       rather than ignore it silently.</li>
 * </ul>
 * malloc(9) requires exactly one of M_WAITOK and M_NOWAIT: combining {@code M_NOWAIT} with {@code waitOk}, or two
 * different timeouts, throws {@link IllegalArgumentException}.
 */
public final class MallocFlags {
    /** No flag: uninitialised memory, no waiting (the behaviour of {@link MemoryPool#malloc(long)}). */
    public static final MallocFlags NONE = new MallocFlags(false, false, false, null);
    /** Zero the block's requested bytes. */
    public static final MallocFlags M_ZERO = new MallocFlags(true, false, false, null);
    /** Fail at once (return 0) when the pool cannot satisfy the request now. */
    public static final MallocFlags M_NOWAIT = new MallocFlags(false, false, true, null);
    /** The block is kept out of core dumps (needs a pool created with {@link PoolOptions#noDump()}). */
    public static final MallocFlags M_NODUMP = new MallocFlags(false, true, false, null);

    private final boolean zero;
    private final boolean noDump;
    private final boolean noWait;
    private final Duration wait;

    private MallocFlags(boolean zero, boolean noDump, boolean noWait, Duration wait) {
        this.zero = zero;
        this.noDump = noDump;
        this.noWait = noWait;
        this.wait = wait;
    }

    /**
     * M_WAITOK: wait up to {@code timeout} for memory freed by other threads. Throws IllegalArgumentException for a
     * negative timeout; {@link Duration#ZERO} tries once, as M_NOWAIT.
     */
    public static MallocFlags waitOk(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("negative timeout " + timeout);
        }
        return new MallocFlags(false, false, false, timeout);
    }

    /** The union of these flags and {@code other}; throws IllegalArgumentException for M_NOWAIT with M_WAITOK. */
    public MallocFlags and(MallocFlags other) {
        boolean nw = noWait || other.noWait;
        Duration w = wait == null ? other.wait : wait;
        if (wait != null && other.wait != null && !wait.equals(other.wait)) {
            throw new IllegalArgumentException("two M_WAITOK timeouts: " + wait + " and " + other.wait);
        }
        if (nw && w != null) {
            throw new IllegalArgumentException("M_NOWAIT and M_WAITOK together (malloc(9): exactly one must be given)");
        }
        return new MallocFlags(zero || other.zero, noDump || other.noDump, nw, w);
    }

    public boolean zero() {
        return zero;
    }

    public boolean noDump() {
        return noDump;
    }

    /** The M_WAITOK timeout; empty for M_NOWAIT. */
    public Optional<Duration> waitTimeout() {
        return Optional.ofNullable(wait);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MallocFlags f && f.zero == zero && f.noDump == noDump && f.noWait == noWait
                && Objects.equals(f.wait, wait);
    }

    @Override
    public int hashCode() {
        return Objects.hash(zero, noDump, noWait, wait);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        if (zero) {
            b.append("M_ZERO|");
        }
        if (noDump) {
            b.append("M_NODUMP|");
        }
        b.append(wait != null ? "M_WAITOK(" + wait + ")" : "M_NOWAIT");
        return b.toString();
    }
}
