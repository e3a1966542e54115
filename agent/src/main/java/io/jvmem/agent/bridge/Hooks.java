package io.jvmem.agent.bridge;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;

/**
 * What the bridge asks of the agent. At run time this class is renamed {@code java.nio.JvmemHooks} and defined in
 * java.base (see {@code BridgeInstaller}), so every class loader sees it; the agent's implementation extends it. It
 * must not name any other agent class.
 */
public abstract class Hooks {
    /** A zeroed pool block for a buffer of {@code capacity} bytes made at {@code site}, or 0: the JDK allocates. */
    public abstract long allocateDirect(int site, int capacity);

    /** A buffer over a pool block when the JDK's mapped-buffer constructor is unavailable (FFM fallback). */
    public abstract ByteBuffer wrap(long address, int capacity);

    /**
     * A pool block for {@code Unsafe.allocateMemory(size)} or libc's {@code malloc(size)} at {@code site}, or 0: the
     * JDK (libc) allocates; or, at a libc site of a route that fails when full, {@link #FULL}: the call fails as libc's
     * does (NULL, errno ENOMEM).
     */
    public abstract long allocateMemory(int site, long size);

    /** Frees {@code address} if a pool holds it and returns true; false for any other address. */
    public abstract boolean free(long address);

    /** Whether {@code address} lies in a pool. */
    public abstract boolean owns(long address);

    /** Resizes a pool block in its pool; 0 if the pool has no room (the block is untouched). */
    public abstract long reallocate(int site, long address, long size);

    public abstract long usableSize(long address);

    /**
     * A pool could not serve {@code size} bytes for {@code site}: throws OutOfMemoryError if the route says fail, except
     * at a libc site, where it returns true: the call fails as libc's does (NULL, errno ENOMEM). False: fall back.
     */
    public abstract boolean exhausted(int site, long size);

    /** Cleaner action of a pool buffer or routed segment: frees its block. Must never throw. */
    public abstract void release(long address);

    /**
     * Blocks of arena sites up to this alignment are typed (malloc(9)'s free(addr, type)): the pool counts them under
     * the site's tag without recording it, and {@link #releaseSegment} gives the tag back; others are freed by
     * {@link #release}. Every pool block is aligned to this (the allocator's quantum).
     */
    public static final long TYPED_ALIGNMENT = 16;

    /**
     * The agent's object for call site {@code site}, or null: resolved once per routed arena allocation and handed back
     * to {@link #allocateSegment(Object, long, long)} and {@link #releaseSegment}, so that neither looks it up again.
     */
    public abstract Object site(int site);

    /**
     * A pool block of {@code size} bytes aligned to {@code alignment} (a power of two) for a routed arena segment at
     * {@code site} (from {@link #site}), not zeroed (the bridge zeroes it); 0: the JDK allocates; or {@link #FULL}:
     * the pool has no room now, and nothing was waited for or counted, so that the bridge decides whether to wait
     * ({@link #reclaimSegment}). The bridge has checked the caller's arena first, as the JDK does before it allocates.
     */
    public abstract long allocateSegment(Object site, long size, long alignment);

    /** From {@link #allocateSegment(Object, long, long)}: the pool is full; never a block's address. */
    public static final long FULL = -1;

    /**
     * After {@link #FULL}: waits for reclaimable blocks as the site's route says, then returns a block as
     * {@link #allocateSegment(Object, long, long)} does, or 0 (the route falls back: the JDK allocates), or throws the
     * route's OutOfMemoryError ({@code on-exhausted=fail}).
     */
    public abstract long reclaimSegment(Object site, long size, long alignment);

    /**
     * Cleanup of a routed segment of arena site {@code site} (from {@link #site}) aligned to at most
     * {@link #TYPED_ALIGNMENT}: frees its block with the site's tag. {@code confined}: its arena is confined, so this
     * runs on the thread that closed it (never on the JDK's cleaner thread). Must never throw.
     */
    public abstract void releaseSegment(long address, Object site, boolean confined);

    /**
     * A pool block of {@code size} bytes aligned to {@code alignment} (a power of two) for a routed arena segment or
     * libc allocation at {@code site}, zeroed when {@code zero} (arena segments are zeroed by the bridge); or 0: the
     * JDK (or libc) allocates; or {@link #FULL} as {@link #allocateMemory} says.
     */
    public abstract long allocateSegment(int site, long size, long alignment, boolean zero);

    /** A routed segment of {@code size} bytes at {@code address} was attached to the JDK's global arena: never freed. */
    public void global(int site, long address, long size) {
    }

    /**
     * {@code mh}, obtained at run time for member {@code name} of {@code refc} (by {@code find*} or {@code unreflect*};
     * {@code special} for {@code findSpecial}/{@code unreflectSpecial}), routed as a call at {@code site} would be, with
     * exactly its type; or {@code mh} itself.
     */
    public abstract MethodHandle routeHandle(MethodHandle mh, Class<?> refc, String name, boolean special, int site);

    /** {@code mh} from {@code Lookup.bind(receiver, name, type)}, routed; or {@code mh} itself. */
    public abstract MethodHandle routeBound(MethodHandle mh, Object receiver, String name, int site);

    /** A handle constant of the member in row {@code row} of the agent's table, routed at {@code site}. */
    public abstract MethodHandle routeRow(MethodHandle mh, int row, int site);

    /** The method {@code Method.invoke} should call for {@code m} on {@code receiver}: a stand-in, or {@code m}. */
    public abstract Method reflectTarget(Method m, Object receiver, int site);

    /** The receiver to pass with {@link #reflectTarget}'s method. */
    public abstract Object reflectReceiver(Method m, Object receiver, int site);

    /**
     * A downcall handle to {@code function} (0: its first argument), made with {@code options} (as the program gave
     * them, possibly null), pool-aware or routed when it is libc's.
     */
    public abstract MethodHandle routeDowncall(MethodHandle mh, long function, FunctionDescriptor fd,
                                               java.lang.foreign.Linker.Option[] options, int site);

    /** The bytes of a hidden class about to be defined in {@code lookupClass}'s nest, rewritten like any class. */
    public abstract byte[] rewriteHidden(Class<?> lookupClass, byte[] bytes);
}
