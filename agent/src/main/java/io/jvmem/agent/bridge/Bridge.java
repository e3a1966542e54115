package io.jvmem.agent.bridge;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.nio.ByteBuffer;
import sun.misc.Unsafe;

/**
 * The redirect target of rewritten call sites, renamed {@code java.nio.JvmemBridge} and defined in java.base at run
 * time so that code in every class loader can call it. Deliberately tiny and dependency-free: each method asks the
 * {@link Hooks} for pool memory and otherwise performs exactly the JDK call it replaced, so an unserved request
 * behaves as if nothing had been rewritten.
 *
 * <p>Signatures are the replaced instruction's operands followed by the call site's id; the {@code Bound} and
 * {@code Unbound} variants serve method references, whose captured arguments come first.
 */
public final class Bridge {
    /** Set once, by {@link #connect}, before any class is rewritten; package-private: only java.nio sees it. */
    static Hooks h;
    /** Whether the JDK's mapped-buffer constructor exists (otherwise buffers come from {@link Hooks#wrap}). */
    private static boolean viaConstructor;

    private Bridge() {
    }

    /**
     * Connects the bridge to the agent's hooks, once: the bridge is public in java.nio, so anyone could call this;
     * only the first caller, the agent, succeeds.
     */
    public static synchronized void connect(Hooks hooks, boolean viaConstructor) {
        if (h != null || hooks == null) {
            throw new IllegalStateException("jvmem: the bridge is connected once, by the agent");
        }
        Bridge.viaConstructor = viaConstructor;
        h = hooks;
    }

    /**
     * Defines a hidden class of this package holding one call site's trampoline (built by the agent's
     * {@code SiteTrampolines}), for the connected hooks only: the public bridge must not define classes in java.base for
     * anyone else. Returns the class, initialized.
     */
    public static Class<?> defineSiteClass(Object hooks, byte[] classFile) throws IllegalAccessException {
        if (hooks == null || hooks != h) {
            throw new IllegalStateException("jvmem: only the agent's hooks define site classes");
        }
        return java.lang.invoke.MethodHandles.lookup().defineHiddenClass(classFile, true).lookupClass();
    }

    public static ByteBuffer allocateDirect(int capacity, int site) {
        if (capacity >= 0) {
            long a = h.allocateDirect(site, capacity);
            if (a != 0) {
                return wrap(a, capacity);
            }
        }
        return ByteBuffer.allocateDirect(capacity); // also the JDK's IllegalArgumentException for a negative capacity
    }

    /** {@code ByteBuffer::allocateDirect} with the site captured. */
    public static ByteBuffer allocateDirectBound(int site, int capacity) {
        return allocateDirect(capacity, site);
    }

    private static ByteBuffer wrap(long address, int capacity) {
        if (viaConstructor) {
            return (ByteBuffer) (Object) new DirectBufferStub(capacity, address, null, new Release(address), false, null);
        }
        return h.wrap(address, capacity);
    }

    public static long allocateMemory(Unsafe u, long size, int site) {
        long a = poolBlock(size, site);
        return a > 0 ? a : u.allocateMemory(size);
    }

    /** {@code unsafe::allocateMemory} (receiver captured) with the site captured. */
    public static long allocateMemoryBound(Unsafe u, int site, long size) {
        return allocateMemory(u, size, site);
    }

    /** {@code Unsafe::allocateMemory} (receiver passed) with the site captured. */
    public static long allocateMemoryUnbound(int site, Unsafe u, long size) {
        return allocateMemory(u, size, site);
    }

    public static long reallocateMemory(Unsafe u, long address, long size, int site) {
        if (address != 0 && h.owns(address)) {
            if (size < 0) {
                return u.reallocateMemory(0, size); // the JDK's IllegalArgumentException; the block stays
            }
            long r = resizePoolBlock(address, size, site);
            return r != NO_ROOM ? r : movedToDram(address, size, u.allocateMemory(size));
        }
        if (address == 0 && site != 0) {
            return allocateMemory(u, size, site);
        }
        return u.reallocateMemory(address, size);
    }

    /** Sites outside any route, and method references: pool-aware, never routes a new block. */
    public static long reallocateMemory(Unsafe u, long address, long size) {
        return reallocateMemory(u, address, size, 0);
    }

    /** Whether {@code address} is a pool block: the prologue of the patched {@code sun.misc.Unsafe} asks this. */
    public static boolean ownsPoolBlock(long address) {
        Hooks hooks = h;
        return address != 0 && hooks != null && hooks.owns(address);
    }

    /** A pool address must never reach free(3). */
    public static void freeMemory(Unsafe u, long address) {
        if (address != 0 && h.free(address)) {
            return;
        }
        u.freeMemory(address);
    }

    /** This class's internal name once renamed into java.nio: what a serialized method reference records. */
    private static final String SELF = Bridge.class.getName().replace('.', '/');

    /**
     * Called first in a class's {@code $deserializeLambda$} (javac's re-creation of its serializable lambdas) when the
     * class has a serializable method reference to Unsafe's freeMemory or reallocateMemory. The rewriter made that
     * reference this class's pool-aware method of the same name ({@code (Unsafe, args)}, static), so its serialized
     * form names this class, and javac's checks of kind, class and signature against the member in the source would
     * refuse it. Such a form is named again by that member (invokeVirtual on the Unsafe, the Unsafe's signature);
     * javac's code then re-creates the reference with its own invokedynamic, which the rewriter made pool-aware too.
     * Anything else is returned as it is.
     */
    public static java.lang.invoke.SerializedLambda restoreLambda(java.lang.invoke.SerializedLambda l, Class<?> capturing) {
        String name = l.getImplMethodName();
        String desc = l.getImplMethodSignature();
        int end = desc.indexOf(';');
        if (l.getImplMethodKind() != java.lang.invoke.MethodHandleInfo.REF_invokeStatic || !SELF.equals(l.getImplClass())
                || !desc.startsWith("(L") || end < 0 || !(name.equals("freeMemory") || name.equals("reallocateMemory"))) {
            return l;
        }
        Object[] captured = new Object[l.getCapturedArgCount()];
        for (int i = 0; i < captured.length; i++) {
            captured[i] = l.getCapturedArg(i);
        }
        return new java.lang.invoke.SerializedLambda(capturing, l.getFunctionalInterfaceClass(),
                l.getFunctionalInterfaceMethodName(), l.getFunctionalInterfaceMethodSignature(),
                java.lang.invoke.MethodHandleInfo.REF_invokeVirtual, desc.substring(2, end), name,
                "(" + desc.substring(end + 1), l.getInstantiatedMethodType(), captured);
    }

    // The same four calls made on jdk.internal.misc.Unsafe (code given --add-exports java.base/jdk.internal.misc).

    public static long allocateMemory(InternalUnsafeStub u, long size, int site) {
        long a = poolBlock(size, site);
        return a > 0 ? a : u.allocateMemory(size);
    }

    public static long allocateMemoryBound(InternalUnsafeStub u, int site, long size) {
        return allocateMemory(u, size, site);
    }

    public static long allocateMemoryUnbound(int site, InternalUnsafeStub u, long size) {
        return allocateMemory(u, size, site);
    }

    public static long reallocateMemory(InternalUnsafeStub u, long address, long size, int site) {
        if (address != 0 && h.owns(address)) {
            if (size < 0) {
                return u.reallocateMemory(0, size);
            }
            long r = resizePoolBlock(address, size, site);
            return r != NO_ROOM ? r : movedToDram(address, size, u.allocateMemory(size));
        }
        if (address == 0 && site != 0) {
            return allocateMemory(u, size, site);
        }
        return u.reallocateMemory(address, size);
    }

    public static long reallocateMemory(InternalUnsafeStub u, long address, long size) {
        return reallocateMemory(u, address, size, 0);
    }

    public static void freeMemory(InternalUnsafeStub u, long address) {
        if (address != 0 && h.free(address)) {
            return;
        }
        u.freeMemory(address);
    }

    /** The receiver of a routed arena call: a routing arena when {@code a} is one of the JDK's. */
    public static Arena routeArena(Arena a, int site) {
        return RoutedArena.of(a, site);
    }

    public static SegmentAllocator routeAllocator(SegmentAllocator a, int site) {
        return a instanceof Arena arena ? RoutedArena.of(arena, site) : a;
    }

    // The hot members of the allocate family, as static calls: no wrapper object per call (see RoutedArena).

    @ForceInlineStub
    public static MemorySegment arenaAllocate(SegmentAllocator a, long byteSize, int site) {
        return RoutedArena.isJdkArena(a) ? RoutedArena.allocate((Arena) a, byteSize, 1, site) : a.allocate(byteSize);
    }

    @ForceInlineStub
    public static MemorySegment arenaAllocate(SegmentAllocator a, long byteSize, long byteAlignment, int site) {
        return RoutedArena.isJdkArena(a) ? RoutedArena.allocate((Arena) a, byteSize, byteAlignment, site)
                : a.allocate(byteSize, byteAlignment);
    }

    @ForceInlineStub
    public static MemorySegment arenaAllocate(SegmentAllocator a, MemoryLayout layout, int site) {
        if (!RoutedArena.isJdkArena(a)) {
            return a.allocate(layout);
        }
        java.util.Objects.requireNonNull(layout); // the JDK's NullPointerException, without a helpful message
        return RoutedArena.allocate((Arena) a, layout.byteSize(), layout.byteAlignment(), site);
    }

    @ForceInlineStub
    public static MemorySegment arenaAllocate(SegmentAllocator a, MemoryLayout layout, long count, int site) {
        if (!RoutedArena.isJdkArena(a) || count < 0) {
            return a.allocate(layout, count); // also the JDK's IllegalArgumentException for a negative count
        }
        MemoryLayout all = MemoryLayout.sequenceLayout(count, layout); // the JDK's checks and exceptions
        return RoutedArena.allocate((Arena) a, all.byteSize(), all.byteAlignment(), site);
    }

    /** A pool block for {@code allocateMemory(size)}, or 0: the JDK allocates. */
    static long poolBlock(long size, int site) {
        return size > 0 ? h.allocateMemory(site, size) : 0;
    }

    /** Not an address: a pool block that must move to DRAM because its pool has no room to grow it. */
    static final long NO_ROOM = -1;

    /** Not an address: a libc realloc of a pool block its pool cannot grow, at a route that fails: NULL, as libc's. */
    static final long FAILED = -2;

    /** {@code reallocateMemory} of a pool block, in its pool: size 0 frees it. */
    static long resizePoolBlock(long address, long size, int site) {
        if (size == 0) {
            h.free(address);
            return 0;
        }
        long r = h.reallocate(site, address, size);
        if (r != 0) {
            return r;
        }
        return h.exhausted(site, size) ? FAILED : NO_ROOM; // throws when the route says fail, but at a libc site
    }

    /** Copies a pool block into the DRAM block {@code to} (just allocated by the caller's Unsafe or libc) and frees it. */
    static long movedToDram(long address, long size, long to) {
        InternalUnsafeStub.getUnsafe().copyMemory(address, to, Math.min(h.usableSize(address), size));
        h.free(address);
        return to;
    }
}
