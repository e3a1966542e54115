package io.jvmem.agent;

import io.jvmem.agent.AgentConfig.Call;
import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;
import java.util.function.Consumer;

/**
 * Downcall handles to libc's allocation functions (the jextract style: {@code Linker.downcallHandle(
 * defaultLookup().find("malloc"), FunctionDescriptor.of(ADDRESS, JAVA_LONG))}). A handle to free or realloc becomes
 * pool-aware in every class, so a pool address never reaches libc; from a class whose route takes {@code downcall},
 * malloc, calloc, realloc, aligned_alloc and posix_memalign are routed. Each is adapted to the bridge's
 * {@code JvmemDowncalls} form (every address a {@code long}) and back to the program's exact handle type.
 *
 * <p>Shapes other than libc's (an {@code int} size, say) are left alone. A handle whose function address is its first
 * argument gets pool-aware free and realloc (any other call through it, of another function or on memory not from a
 * pool, is the program's own handle with its own arguments); its allocations are not routed (the function is known only at each
 * call), and a selected class making one of malloc's shape is reported as unrouted.
 */
final class DowncallRoutes {
    private static final MethodHandles.Lookup PUBLIC = MethodHandles.publicLookup();
    private final HandleRoutes handles;
    private final Class<?> downcalls;
    private final long free;
    private final long malloc;
    private final long calloc;
    private final long realloc;
    private final long alignedAlloc;
    private final long posixMemalign;
    private final MethodHandle ofAddress;
    private final MethodHandle address;
    /** The JDK's checks on a segment argument, then its address ({@code JvmemDowncalls.address}). */
    private final MethodHandle checkedAddress;
    /** A segment argument's address if the JDK would accept it, else 0 ({@code JvmemDowncalls.candidate}). */
    private final MethodHandle candidate;
    /** libc's realloc as {@code (long, long) long}, for a pool block moving to libc: made on first need. */
    private volatile MethodHandle plainRealloc;

    DowncallRoutes(HandleRoutes handles) throws ReflectiveOperationException {
        this.handles = handles;
        this.downcalls = Class.forName("java.nio.JvmemDowncalls", false, null);
        SymbolLookup libc = Linker.nativeLinker().defaultLookup();
        this.free = address(libc, "free");
        this.malloc = address(libc, "malloc");
        this.calloc = address(libc, "calloc");
        this.realloc = address(libc, "realloc");
        this.alignedAlloc = address(libc, "aligned_alloc");
        this.posixMemalign = address(libc, "posix_memalign");
        this.ofAddress = PUBLIC.findStatic(MemorySegment.class, "ofAddress", MethodType.methodType(MemorySegment.class, long.class));
        this.address = PUBLIC.findVirtual(MemorySegment.class, "address", MethodType.methodType(long.class));
        this.checkedAddress = PUBLIC.findStatic(downcalls, "address", MethodType.methodType(long.class, MemorySegment.class));
        this.candidate = PUBLIC.findStatic(downcalls, "candidate", MethodType.methodType(long.class, MemorySegment.class));
    }

    private static long address(SymbolLookup libc, String name) {
        return libc.find(name).map(MemorySegment::address).orElse(-1L);
    }

    /** Whether {@code function} is one of the addresses handled here (cheap pre-check). */
    boolean isLibcAllocator(long function) {
        return function == free || function == malloc || function == calloc || function == realloc
                || function == alignedAlloc || function == posixMemalign;
    }

    /** The routed or pool-aware form of {@code mh}, or {@code mh}; {@code function} 0 means an unbound handle. */
    MethodHandle route(MethodHandle mh, long function, FunctionDescriptor fd, int site, Consumer<String> reportUnrouted)
            throws ReflectiveOperationException {
        List<MemoryLayout> args = fd.argumentLayouts();
        MemoryLayout ret = fd.returnLayout().orElse(null);
        int lead = function == 0 ? 1 : 0; // the function's address, for an unbound handle
        if (mh.type().parameterCount() != lead + args.size()) {
            // Linker.Option.captureCallState: the state segment comes after the function's address
            return withState(mh, function, args, ret, lead + 1, site, reportUnrouted);
        }
        if (function == 0) {
            return unbound(mh, args, ret, reportUnrouted, site);
        }
        String core;
        MethodType coreType;
        if (function == free && shape(args, ret, null, true)) {
            return back(MethodHandles.insertArguments(core("free", void.class, MethodHandle.class, long.class), 0, toLong(mh)),
                    ret, mh);
        } else if (function == realloc && shape(args, ret, true, true, false)) {
            core = "realloc";
            coreType = MethodType.methodType(long.class, MethodHandle.class, int.class, long.class, long.class);
        } else if (function == malloc && shape(args, ret, true, false)) {
            core = "malloc";
            coreType = MethodType.methodType(long.class, MethodHandle.class, int.class, long.class);
        } else if (function == calloc && shape(args, ret, true, false, false)) {
            core = "calloc";
            coreType = MethodType.methodType(long.class, MethodHandle.class, int.class, long.class, long.class);
        } else if (function == alignedAlloc && shape(args, ret, true, false, false)) {
            core = "alignedAlloc";
            coreType = MethodType.methodType(long.class, MethodHandle.class, int.class, long.class, long.class);
        } else if (function == posixMemalign && ret instanceof ValueLayout.OfInt && shape(args, null, null, true, false, false)) {
            core = "posixMemalign";
            coreType = MethodType.methodType(int.class, MethodHandle.class, int.class, long.class, long.class, long.class);
        } else {
            return mh;
        }
        // only now, for a function that allocates, is the handle's call site an allocation site
        int s = handles.derive(site, Call.DOWNCALL);
        if (s == 0 && !core.equals("realloc")) {
            return mh; // allocation functions are routed only from selected classes; realloc is pool-aware everywhere
        }
        MethodHandle c = PUBLIC.findStatic(downcalls, core, coreType);
        return back(MethodHandles.insertArguments(c, 0, toLong(mh), s), ret, mh);
    }

    private MethodHandle unbound(MethodHandle mh, List<MemoryLayout> args, MemoryLayout ret, Consumer<String> reportUnrouted, int site)
            throws ReflectiveOperationException {
        // the handle's first parameter is the function's address
        if (shape(args, ret, null, true)) {
            MethodHandle c = PUBLIC.findStatic(downcalls, "freeAt",
                    MethodType.methodType(void.class, MethodHandle.class, long.class, long.class, long.class));
            return onPoolBlocks(free, back(MethodHandles.insertArguments(c, 0, toLong(mh), free), ret, mh), mh);
        }
        if (shape(args, ret, true, true, false)) {
            MethodHandle c = PUBLIC.findStatic(downcalls, "reallocAt",
                    MethodType.methodType(long.class, MethodHandle.class, long.class, long.class, long.class, long.class));
            return onPoolBlocks(realloc, back(MethodHandles.insertArguments(c, 0, toLong(mh), realloc), ret, mh), mh);
        }
        if (handles.takes(site, Call.DOWNCALL) && shape(args, ret, true, false)) {
            reportUnrouted.accept("downcall handle of malloc's shape without a bound address");
        }
        return mh;
    }

    /**
     * A handle with {@code lead} parameters before the function's arguments (the function's address if unbound, then
     * the call-state segment). Its frees and reallocations of pool blocks are done here; for any other address the
     * program's own handle runs, call state and the JDK's checks included. Its allocations are not routed: reported.
     */
    private MethodHandle withState(MethodHandle mh, long function, List<MemoryLayout> args, MemoryLayout ret, int lead,
                                   int site, Consumer<String> reportUnrouted) throws ReflectiveOperationException {
        MethodType t = mh.type();
        boolean unbound = function == 0;
        boolean allocates = unbound ? shape(args, ret, true, false) : function != free;
        if (allocates && handles.takes(site, Call.DOWNCALL)) {
            reportUnrouted.accept("downcall handle of libc's allocator with captureCallState");
        }
        MethodHandle test; // (function address if unbound, pointer) as long -> whether the pool takes the call
        MethodHandle target;
        if ((unbound || function == free) && shape(args, ret, null, true)) {
            test = unbound ? MethodHandles.insertArguments(core("freedInPoolAt", boolean.class, long.class, long.class, long.class), 0, free)
                    : core("freedInPool", boolean.class, long.class);
            target = MethodHandles.empty(t); // the test freed it
        } else if ((unbound || function == realloc) && shape(args, ret, true, true, false)) {
            test = unbound ? MethodHandles.insertArguments(core("ownedAt", boolean.class, long.class, long.class, long.class), 0, realloc)
                    : core("owned", boolean.class, long.class);
            MethodHandle resize = MethodHandles.insertArguments(core("realloc", long.class, MethodHandle.class, int.class, long.class, long.class),
                    0, plainRealloc(), 0); // (p, size): resized in the pool, or moved to libc's memory
            target = MethodHandles.dropArguments(back(resize, ret, t.dropParameterTypes(0, lead)), 0, t.parameterList().subList(0, lead));
        } else {
            return mh;
        }
        test = MethodHandles.dropArguments(test, lead - 1, t.parameterType(lead - 1)); // the state segment
        for (int i = 0; i <= lead; i++) {
            if (i != lead - 1 && t.parameterType(i) == MemorySegment.class) {
                test = MethodHandles.filterArguments(test, i, candidate); // a segment the JDK refuses is no pool block
            }
        }
        test = test.asType(t.dropParameterTypes(lead + 1, t.parameterCount()).changeReturnType(boolean.class));
        return MethodHandles.guardWithTest(test, target, mh);
    }

    private MethodHandle plainRealloc() {
        MethodHandle r = plainRealloc;
        if (r == null) { // made through the (patched) linker: pool-aware already, and realloc(NULL) is libc's malloc
            plainRealloc = r = Linker.nativeLinker().downcallHandle(MemorySegment.ofAddress(realloc),
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
        }
        return r;
    }

    /**
     * {@code pool} for a call of {@code function} on a pool block, the program's own handle {@code mh} for every other
     * call. An unbound handle of free's shape may call any {@code void f(void *)}: its segment arguments must reach
     * the JDK as they are, which checks that they are alive and native (or passes a heap segment to a critical
     * function), where the {@code long} form would pass a freed or a heap segment's address.
     */
    private MethodHandle onPoolBlocks(long function, MethodHandle pool, MethodHandle mh) throws ReflectiveOperationException {
        MethodHandle test = MethodHandles.insertArguments(core("ownedAt", boolean.class, long.class, long.class,
                long.class), 0, function);
        MethodType t = mh.type();
        for (int i = 0; i < 2; i++) {
            if (t.parameterType(i) == MemorySegment.class) {
                test = MethodHandles.filterArguments(test, i, candidate); // a segment the JDK refuses: its own handle
            }
        }
        test = test.asType(MethodType.methodType(boolean.class, t.parameterType(0), t.parameterType(1)));
        return MethodHandles.guardWithTest(test, pool, mh);
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

    /** The program's handle with every address as a {@code long}. */
    private MethodHandle toLong(MethodHandle mh) {
        MethodType t = mh.type();
        MethodHandle r = mh;
        for (int i = 0; i < t.parameterCount(); i++) {
            if (t.parameterType(i) == MemorySegment.class) {
                r = MethodHandles.filterArguments(r, i, ofAddress);
            }
        }
        if (t.returnType() == MemorySegment.class) {
            r = MethodHandles.filterReturnValue(r, address);
        }
        return r;
    }

    /** A core in the {@code long} form, back in the program's handle type. */
    private MethodHandle back(MethodHandle core, MemoryLayout ret, MethodHandle original)
            throws ReflectiveOperationException {
        return back(core, ret, original.type());
    }

    /** A core in the {@code long} form, in handle type {@code t}. */
    private MethodHandle back(MethodHandle core, MemoryLayout ret, MethodType t) throws ReflectiveOperationException {
        MethodHandle r = core;
        for (int i = 0; i < t.parameterCount(); i++) {
            if (t.parameterType(i) == MemorySegment.class) {
                r = MethodHandles.filterArguments(r, i, checkedAddress);
            }
        }
        if (t.returnType() == MemorySegment.class) {
            long target = ret instanceof AddressLayout a ? a.targetLayout().map(MemoryLayout::byteSize).orElse(0L) : 0;
            MethodHandle seg = MethodHandles.insertArguments(core("segment", MemorySegment.class, long.class, long.class), 0, target);
            r = MethodHandles.filterReturnValue(r, seg);
        }
        return r.asType(t);
    }
}
