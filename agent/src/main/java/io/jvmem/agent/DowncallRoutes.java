package io.jvmem.agent;

import io.jvmem.agent.AgentConfig.Call;
import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;
import java.util.function.Consumer;

/**
 * Downcall handles to libc's allocation functions (the jextract style: {@code Linker.downcallHandle(
 * defaultLookup().find("malloc"), FunctionDescriptor.of(ADDRESS, JAVA_LONG))}). A handle to free, realloc or
 * reallocarray becomes pool-aware in every class, so a pool address never reaches libc; from a class whose route takes
 * {@code downcall}, malloc, calloc, realloc, reallocarray, aligned_alloc (glibc's memalign is the same function),
 * posix_memalign, valloc and pvalloc are routed.
 *
 * <p>A free or reallocation is guarded: a test on the call's own arguments decides whether the pool takes it (a pool
 * block, or NULL for a routed realloc); every other call is the program's own handle with its own arguments, so the
 * JDK checks and passes them exactly as without the agent (a heap segment to a {@code critical(true)} function, a
 * closed arena's segment refused). The allocation functions take sizes only, except posix_memalign, whose
 * {@code memptr} goes to the bridge as the program gave it. Handles keep the program's exact type.
 *
 * <p>Shapes other than libc's (an {@code int} size, say) are left alone. A handle whose function address is its first
 * argument gets pool-aware free, realloc, reallocarray and malloc_usable_size for calls of those functions on pool
 * blocks (any other call through it is the program's own); its allocations are not routed (the function is known only at each call), and a
 * selected class making one of malloc's shape is reported as unrouted. So is a handle to libc's allocator made with
 * {@code Linker.Option.captureCallState} in a selected class: its frees, reallocations and usable sizes are pool-aware (a block
 * moved to libc is allocated through the program's handle, so libc's {@code errno} reaches the state segment), its
 * allocations not routed.
 */
final class DowncallRoutes {
    private static final MethodHandles.Lookup PUBLIC = MethodHandles.publicLookup();
    private final HandleRoutes handles;
    private final Class<?> downcalls;
    private final long free;
    private final long malloc;
    private final long calloc;
    private final long realloc;
    private final long reallocarray;
    private final long alignedAlloc;
    private final long posixMemalign;
    private final long valloc;
    private final long pvalloc;
    private final long mallocUsableSize;
    /** getpagesize(): valloc's and pvalloc's alignment; 0 until first needed. */
    private volatile long pageSize;
    private final MethodHandle ofAddress;
    private final MethodHandle address;
    /** A segment argument's address if the JDK would pass it natively, else no pool block ({@code JvmemDowncalls.candidate}). */
    private final MethodHandle candidate;
    /** {@code JvmemBridge.routeAllocator(allocator, site)}: the routing arena for one of the JDK's arenas. */
    private final MethodHandle routeAllocator;

    /** What a guarded handle does to a pool block. */
    private enum Frees {
        FREE, REALLOC, REALLOCARRAY
    }

    DowncallRoutes(HandleRoutes handles) throws ReflectiveOperationException {
        this.handles = handles;
        this.downcalls = Class.forName("java.nio.JvmemDowncalls", false, null);
        SymbolLookup libc = java.lang.foreign.Linker.nativeLinker().defaultLookup();
        this.free = address(libc, "free");
        this.malloc = address(libc, "malloc");
        this.calloc = address(libc, "calloc");
        this.realloc = address(libc, "realloc");
        this.reallocarray = address(libc, "reallocarray");
        this.alignedAlloc = address(libc, "aligned_alloc");
        this.posixMemalign = address(libc, "posix_memalign");
        this.valloc = address(libc, "valloc");
        this.pvalloc = address(libc, "pvalloc");
        this.mallocUsableSize = address(libc, "malloc_usable_size");
        this.ofAddress = PUBLIC.findStatic(MemorySegment.class, "ofAddress", MethodType.methodType(MemorySegment.class, long.class));
        this.address = PUBLIC.findVirtual(MemorySegment.class, "address", MethodType.methodType(long.class));
        this.candidate = PUBLIC.findStatic(downcalls, "candidate", MethodType.methodType(long.class, MemorySegment.class));
        this.routeAllocator = PUBLIC.findStatic(Class.forName(Intercepts.BRIDGE.replace('/', '.'), false, null),
                "routeAllocator", MethodType.methodType(SegmentAllocator.class, SegmentAllocator.class, int.class));
    }

    /**
     * A handle to a function returning a struct by value, made at {@code site}, a class whose route takes {@code arena}:
     * the JDK's linker allocates the struct from the {@code SegmentAllocator} the program passes with each call (the
     * handle's allocator parameter), which is that class's arena allocation, so one of the JDK's arenas there becomes
     * the routing arena for the call, as for the class's own {@code arena.allocate}; any other allocator is left to
     * itself. Null for any other handle, or a route without {@code arena}.
     */
    MethodHandle structReturn(MethodHandle mh, FunctionDescriptor fd, int site) {
        if (!(fd.returnLayout().orElse(null) instanceof GroupLayout)) {
            return null;
        }
        // the allocator comes first, after an unbound handle's address: no C parameter has this carrier type
        int at = mh.type().parameterList().indexOf(SegmentAllocator.class);
        int s = at < 0 ? 0 : handles.derive(site, Call.ARENA);
        return s == 0 ? null : MethodHandles.filterArguments(mh, at, MethodHandles.insertArguments(routeAllocator, 1, s));
    }

    private static long address(SymbolLookup libc, String name) {
        return libc.find(name).map(MemorySegment::address).orElse(-1L);
    }

    /** Whether {@code function} is one of the addresses handled here (cheap pre-check). */
    boolean isLibcAllocator(long function) {
        return function == free || function == malloc || function == calloc || function == realloc
                || function == reallocarray || function == alignedAlloc || function == posixMemalign
                || function == valloc || function == pvalloc || function == mallocUsableSize;
    }

    /**
     * The routed or pool-aware form of {@code mh}, or {@code mh}; {@code function} 0 means an unbound handle.
     * {@code heap}: made with {@code Linker.Option.critical(true)}, so the JDK passes heap segments to the function.
     */
    MethodHandle route(MethodHandle mh, long function, FunctionDescriptor fd, boolean heap, int site,
                       Consumer<String> reportUnrouted) throws ReflectiveOperationException {
        List<MemoryLayout> args = fd.argumentLayouts();
        MemoryLayout ret = fd.returnLayout().orElse(null);
        boolean unbound = function == 0;
        int lead = unbound ? 1 : 0; // the function's address, for an unbound handle
        boolean state = mh.type().parameterCount() != lead + args.size(); // Linker.Option.captureCallState
        if (state) {
            lead++;
        }
        if (unbound || state) {
            boolean allocates = unbound ? shape(args, ret, true, false) : function != free && function != mallocUsableSize;
            if (allocates && handles.takes(site, Call.DOWNCALL)) {
                reportUnrouted.accept(state ? "downcall handle of libc's allocator with captureCallState"
                        : "downcall handle of malloc's shape without a bound address");
            }
            if (shape(args, ret, null, true) && (unbound || function == free)) {
                return guarded(mh, Frees.FREE, unbound ? free : 0, unbound, state, lead, ret, 0);
            }
            if (shape(args, ret, true, true, false) && (unbound || function == realloc)) {
                return guarded(mh, Frees.REALLOC, unbound ? realloc : 0, unbound, state, lead, ret, 0);
            }
            if (shape(args, ret, true, true, false, false) && (unbound || function == reallocarray)) {
                return guarded(mh, Frees.REALLOCARRAY, unbound ? reallocarray : 0, unbound, state, lead, ret, 0);
            }
            if (shape(args, ret, true, true) && (unbound || function == mallocUsableSize)) {
                return usable(mh, unbound, state, lead, ret);
            }
            return mh;
        }
        if (function == free && shape(args, ret, null, true)) {
            return guarded(mh, Frees.FREE, 0, false, false, 0, ret, 0);
        }
        if (function == mallocUsableSize && shape(args, ret, true, true)) {
            return usable(mh, false, false, 0, ret);
        }
        boolean reallocs = function == realloc && shape(args, ret, true, true, false)
                || function == reallocarray && shape(args, ret, true, true, false, false);
        String core;
        MethodType coreType;
        if (reallocs) {
            core = null;
            coreType = null;
        } else if (function == malloc && shape(args, ret, true, false)) {
            core = "malloc";
            coreType = MethodType.methodType(long.class, MethodHandle.class, int.class, long.class);
        } else if (function == calloc && shape(args, ret, true, false, false)) {
            core = "calloc";
            coreType = MethodType.methodType(long.class, MethodHandle.class, int.class, long.class, long.class);
        } else if (function == alignedAlloc && shape(args, ret, true, false, false)) {
            core = "alignedAlloc";
            coreType = MethodType.methodType(long.class, MethodHandle.class, int.class, long.class, long.class);
        } else if ((function == valloc || function == pvalloc) && shape(args, ret, true, false)) {
            core = function == valloc ? "valloc" : "pvalloc";
            coreType = null;
        } else if (function == posixMemalign && ret instanceof ValueLayout.OfInt && shape(args, null, null, true, false, false)) {
            core = "posixMemalign";
            coreType = null;
        } else {
            return mh;
        }
        // only now, for a function that allocates, is the handle's call site an allocation site
        int s = handles.derive(site, Call.DOWNCALL);
        if (reallocs) { // pool-aware everywhere; from a selected class realloc(NULL) is routed too
            return guarded(mh, function == realloc ? Frees.REALLOC : Frees.REALLOCARRAY, 0, false, false, 0, ret, s);
        }
        if (s == 0) {
            return mh; // allocation functions are routed only from selected classes
        }
        if (core.equals("posixMemalign")) {
            return posixMemalign(mh, s, heap);
        }
        if (coreType == null) { // valloc(size), pvalloc(size): aligned_alloc(page, size), pvalloc's size a whole page count
            MethodHandle libc = MethodHandles.dropArguments(longForm(mh, -1), 0, long.class); // (alignment, size)
            MethodHandle c = MethodHandles.insertArguments(core("alignedAlloc", long.class, MethodHandle.class, int.class,
                    long.class, long.class), 0, libc, s, pageSize());
            if (core.equals("pvalloc")) {
                c = MethodHandles.filterArguments(c, 0, MethodHandles.insertArguments(core("pageRounded", long.class,
                        long.class, long.class), 0, pageSize()));
            }
            return back(c, ret, mh.type());
        }
        MethodHandle c = PUBLIC.findStatic(downcalls, core, coreType);
        return back(MethodHandles.insertArguments(c, 0, longForm(mh, -1), s), ret, mh.type());
    }

    /**
     * A free or reallocation handle: {@code guardWithTest(the pool takes it, the pool's way, mh)}. Its parameters are
     * {@code lead} ones (the function's address if {@code unbound}, then the state segment if {@code state}), the
     * pointer, and for a reallocation the size(s). {@code expected}: the function an unbound handle must be called with
     * for the pool to take the call (0 for a bound handle). {@code site}: a routed site, where realloc(NULL) is the
     * pool's too, or 0.
     */
    private MethodHandle guarded(MethodHandle mh, Frees kind, long expected, boolean unbound, boolean state, int lead,
                                 MemoryLayout ret, int site) throws ReflectiveOperationException {
        MethodType t = mh.type();
        // the test, on (function as long, p as long), then moved onto the handle's own leading parameters
        MethodHandle test = kind == Frees.FREE
                ? MethodHandles.insertArguments(core("freedInPool", boolean.class, long.class, long.class, long.class), 0, expected)
                : MethodHandles.insertArguments(core("reallocTakes", boolean.class, long.class, int.class, long.class, long.class),
                        0, expected, site);
        test = onLeadingParameters(test, t, unbound, state, lead);
        MethodHandle target;
        if (kind == Frees.FREE) {
            target = MethodHandles.empty(t); // the test freed it
        } else {
            // the program's handle as (function, state, p, count, size) long
            MethodHandle libc = longForm(mh, lead);
            if (kind == Frees.REALLOC) {
                libc = MethodHandles.dropArguments(libc, lead + 1, long.class);
            }
            if (!state) {
                libc = MethodHandles.dropArguments(libc, lead, MemorySegment.class);
            }
            if (!unbound) {
                libc = MethodHandles.dropArguments(libc, 0, MemorySegment.class);
            }
            libc = libc.asType(MethodType.methodType(long.class, MemorySegment.class, MemorySegment.class, long.class,
                    long.class, long.class));
            target = MethodHandles.insertArguments(core("realloc", long.class, MethodHandle.class, int.class,
                    MemorySegment.class, MemorySegment.class, long.class, long.class, long.class), 0, libc, site);
            if (kind == Frees.REALLOC) {
                target = MethodHandles.insertArguments(target, 3, 1L);
            }
            if (!state) {
                target = MethodHandles.insertArguments(target, 1, (Object) null);
            }
            if (!unbound) {
                target = MethodHandles.insertArguments(target, 0, (Object) null);
            }
            if (t.parameterType(lead) == MemorySegment.class) {
                target = MethodHandles.filterArguments(target, lead, address); // the test found it a native address
            }
            target = back(target, ret, t);
        }
        return MethodHandles.guardWithTest(test, target, mh);
    }

    /**
     * malloc_usable_size(3), pool-aware everywhere: a pool block's usable size from its pool (glibc would read a chunk
     * header that is not there, from the bytes before the block: garbage, or a crash when they are the program's
     * data); any other call goes to the program's own handle. Its parameters are {@code lead} ones (as for
     * {@link #guarded}: an unbound handle's function, which must be malloc_usable_size, then a state segment), then
     * the pointer.
     */
    private MethodHandle usable(MethodHandle mh, boolean unbound, boolean state, int lead, MemoryLayout ret)
            throws ReflectiveOperationException {
        MethodType t = mh.type();
        // the test, on (function as long, p as long), then moved onto the handle's own parameters
        MethodHandle test = MethodHandles.insertArguments(core("ownedByPool", boolean.class, long.class, long.class,
                long.class), 0, unbound ? mallocUsableSize : 0L);
        test = onLeadingParameters(test, t, unbound, state, lead);
        MethodHandle size = core("poolUsableSize", long.class, long.class);
        if (t.parameterType(lead) == MemorySegment.class) {
            size = MethodHandles.filterArguments(size, 0, address); // the test found it a native address
        }
        size = MethodHandles.dropArguments(size, 0, t.parameterList().subList(0, lead));
        // size_t declared as an address: a segment sized to its target layout, as the JDK returns it
        return MethodHandles.guardWithTest(test, back(size, ret, t), mh);
    }

    /**
     * A guard's {@code test} on {@code (function as long, p as long)} moved onto the leading parameters of a handle of
     * type {@code t}: {@code lead} of them (an unbound handle's function, then a state segment if {@code state}), then
     * the pointer. A segment the JDK would refuse gives an address no pool holds, so that call runs the program's own
     * handle.
     */
    private MethodHandle onLeadingParameters(MethodHandle test, MethodType t, boolean unbound, boolean state, int lead) {
        if (!unbound) {
            test = MethodHandles.insertArguments(test, 0, 0L);
        }
        if (state) {
            test = MethodHandles.dropArguments(test, lead - 1, MemorySegment.class);
        }
        for (int i = 0; i <= lead; i++) {
            if (t.parameterType(i) == MemorySegment.class && !(state && i == lead - 1)) {
                test = MethodHandles.filterArguments(test, i, candidate);
            }
        }
        return test.asType(t.dropParameterTypes(lead + 1, t.parameterCount()).changeReturnType(boolean.class));
    }

    /** posix_memalign routed at {@code site}: the bridge writes the pool block where libc would write its pointer. */
    private MethodHandle posixMemalign(MethodHandle mh, int site, boolean heap) throws ReflectiveOperationException {
        MethodHandle c = core("posixMemalign", int.class, MethodHandle.class, int.class, boolean.class,
                MemorySegment.class, long.class, long.class);
        MethodHandle libc = mh;
        boolean longMemptr = mh.type().parameterType(0) != MemorySegment.class;
        if (longMemptr) { // memptr as JAVA_LONG: the bridge sees it as a zero-length native segment
            libc = MethodHandles.filterArguments(libc, 0, address);
        }
        libc = libc.asType(MethodType.methodType(int.class, MemorySegment.class, long.class, long.class));
        MethodHandle r = MethodHandles.insertArguments(c, 0, libc, site, heap);
        if (longMemptr) {
            r = MethodHandles.filterArguments(r, 0, ofAddress);
        }
        return r.asType(mh.type());
    }

    /**
     * The page size, from getpagesize() on first need: not in the constructor, whose downcall handle would pass
     * through the (patched) linker back into the hooks while they are still making this object.
     */
    private long pageSize() {
        long p = pageSize;
        if (p == 0) {
            try {
                SymbolLookup libc = java.lang.foreign.Linker.nativeLinker().defaultLookup();
                p = (int) java.lang.foreign.Linker.nativeLinker().downcallHandle(libc.find("getpagesize").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT)).invokeExact();
            } catch (Throwable e) {
                p = 4096; // no getpagesize: the common page size
            }
            pageSize = p;
        }
        return p;
    }

    /**
     * Whether the descriptor has libc's shape: {@code returns} true for an address-like return (ADDRESS or JAVA_LONG),
     * null for none (void; pass a null {@code ret} to skip the check); {@code params}: true for an address-like
     * parameter, false for a {@code size_t} (JAVA_LONG).
     */
    private static boolean shape(List<MemoryLayout> args, MemoryLayout ret, Boolean returns, boolean... params) {
        if (returns == null ? ret != null : !addressLike(ret)) {
            return false;
        }
        if (args.size() != params.length) {
            return false;
        }
        for (int i = 0; i < params.length; i++) {
            MemoryLayout a = args.get(i);
            if (params[i] ? !addressLike(a) : !(a instanceof ValueLayout.OfLong)) {
                return false;
            }
        }
        return true;
    }

    private static boolean addressLike(MemoryLayout l) {
        return l instanceof AddressLayout || l instanceof ValueLayout.OfLong;
    }

    private MethodHandle core(String name, Class<?> returns, Class<?>... parameters) throws ReflectiveOperationException {
        return PUBLIC.findStatic(downcalls, name, MethodType.methodType(returns, parameters));
    }

    /** The program's handle with its address at {@code pointer} (-1: none) and its returned address as {@code long}s. */
    private MethodHandle longForm(MethodHandle mh, int pointer) {
        MethodType t = mh.type();
        MethodHandle r = mh;
        if (pointer >= 0 && t.parameterType(pointer) == MemorySegment.class) {
            r = MethodHandles.filterArguments(r, pointer, ofAddress);
        }
        if (t.returnType() == MemorySegment.class) {
            r = MethodHandles.filterReturnValue(r, address);
        }
        return r;
    }

    /** A core returning a {@code long} address, in handle type {@code t} (its return as the JDK would make it). */
    private MethodHandle back(MethodHandle core, MemoryLayout ret, MethodType t) throws ReflectiveOperationException {
        MethodHandle r = core;
        if (t.returnType() == MemorySegment.class) {
            MemoryLayout target = ret instanceof AddressLayout a ? a.targetLayout().orElse(null) : null;
            MethodHandle seg = MethodHandles.insertArguments(core("segment", MemorySegment.class, long.class, long.class,
                    long.class), 0, target == null ? 0 : target.byteSize(), target == null ? 1 : target.byteAlignment());
            r = MethodHandles.filterReturnValue(r, seg);
        }
        return r.asType(t);
    }
}
