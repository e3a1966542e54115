package io.jvmem.agent;

import io.jvmem.agent.AgentConfig.Call;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;

/**
 * Routes what a program obtains at run time for an intercepted member — a {@code MethodHandle} from
 * {@code Lookup.find*}/{@code unreflect*}/{@code bind} or a handle constant, or a {@code Method} about to be invoked —
 * exactly as {@link CallSiteRewriter} routes a call of it: to the same bridge methods, with the same site rules.
 * Handles keep their type (and varargs-ness), so {@code invokeExact} and handle combinators work unchanged.
 *
 * <p>The site passed in is the lookup's or the invoke's call site; the allocation is recorded at a site of the same
 * name whose call is the member's kind ({@link #derive}), and only when the route takes that kind. Outside any route
 * (site 0) only frees and reallocations change: they become pool-aware.
 */
final class HandleRoutes {
    private static final MethodHandles.Lookup PUBLIC = MethodHandles.publicLookup();
    private final Sites sites;
    private final Class<?> bridge;
    private final Class<?> invocation;
    private final Class<?> reflect;
    private final Class<?> internalUnsafe;
    private final MethodHandle invocationOf;
    private final MethodHandle routeArena;
    /** The stand-ins {@code Method.invoke} calls instead of an intercepted member, by name: looked up once. */
    private final java.util.Map<String, Method> standIns = new java.util.HashMap<>();

    private final SiteTrampolines trampolines;

    /** {@code hooks}: the connected hooks, the key to the bridge's {@code defineSiteClass}. */
    HandleRoutes(Sites sites, Object hooks) throws ReflectiveOperationException {
        this.sites = sites;
        this.bridge = Class.forName(Intercepts.BRIDGE.replace('/', '.'), false, null);
        MethodHandle define = PUBLIC.findStatic(bridge, "defineSiteClass",
                MethodType.methodType(Class.class, Object.class, byte[].class));
        this.trampolines = new SiteTrampolines(classFile -> (Class<?>) define.invokeExact(hooks, classFile));
        this.invocation = Class.forName("java.nio.JvmemInvocation", false, null);
        this.reflect = Class.forName(Intercepts.REFLECT.replace('/', '.'), false, null);
        this.internalUnsafe = Class.forName(Intercepts.INTERNAL_UNSAFE.replace('/', '.'), false, null);
        this.invocationOf = PUBLIC.findStatic(invocation, "of", MethodType.methodType(invocation, Object.class, int.class));
        this.routeArena = bridge("routeArena", Arena.class, Arena.class, int.class);
        for (Method m : invocation.getDeclaredMethods()) {
            if (java.lang.reflect.Modifier.isPublic(m.getModifiers()) && !java.lang.reflect.Modifier.isStatic(m.getModifiers())) {
                standIns.put(m.getName(), m);
            }
        }
    }

    /** The site recording a {@code call} reached through the lookup or invoke at {@code site}, or 0 (not routed). */
    int derive(int site, Call call) {
        if (!takes(site, call)) {
            return 0;
        }
        Site s = sites.get(site);
        if (s.call.equals(call.configName)) {
            return site;
        }
        int d = s.derived[call.ordinal()];
        if (d == 0) { // registered once per kind: a reflective call then takes no lock (a racing first call registers the same id)
            s.derived[call.ordinal()] = d = sites.register(s.name, call.configName, s.route);
        }
        return d;
    }

    /** Whether the route of {@code site} takes {@code call} (registers nothing). */
    boolean takes(int site, Call call) {
        Site s = sites.get(site);
        return s != null && s.route.calls.contains(call);
    }

    MethodHandle routeHandle(MethodHandle mh, Class<?> refc, String name, boolean special, int site) {
        try {
            MethodHandle r = routed(mh, refc, name, mh.type(), special, site);
            return r == null ? mh : sameShape(r, mh);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("jvmem: the bridge lacks a method for " + refc.getName() + "." + name, e);
        }
    }

    MethodHandle routeBound(MethodHandle mh, Object receiver, String name, int site) {
        Class<?> refc = receiver instanceof sun.misc.Unsafe ? sun.misc.Unsafe.class
                : internalUnsafe.isInstance(receiver) ? internalUnsafe
                : receiver instanceof Arena ? Arena.class
                : null;
        if (refc == null) {
            return mh;
        }
        try {
            MethodType full = mh.type().insertParameterTypes(0, refc);
            MethodHandle unbound = refc == Arena.class ? PUBLIC.findVirtual(Arena.class, name, mh.type()) : null;
            MethodHandle r = routed(unbound, refc, name, full, false, site);
            return r == null ? mh : sameShape(r.bindTo(receiver), mh);
        } catch (ReflectiveOperationException e) {
            return mh; // not one of the intercepted members after all
        }
    }

    MethodHandle routeRow(MethodHandle mh, int row, int site) {
        Intercepts.Row r = Intercepts.row(row);
        try {
            return routeHandle(mh, Class.forName(r.owner().replace('/', '.'), false, null), r.name(), false, site);
        } catch (ClassNotFoundException e) {
            return mh;
        }
    }

    /** Same type and varargs-ness as the program's handle. */
    private static MethodHandle sameShape(MethodHandle routed, MethodHandle original) {
        MethodHandle r = routed.asType(original.type());
        return original.isVarargsCollector() ? r.asVarargsCollector(original.type().lastParameterType()) : r;
    }

    /**
     * The routed form of member {@code name} of {@code refc} with handle type {@code type} (receiver first), or null.
     * {@code mh} is the program's handle (for arena members: null when the member was not found). Handles that carry a
     * site are direct handles to a trampoline ({@link SiteTrampolines}), as the JDK's own are direct.
     */
    private MethodHandle routed(MethodHandle mh, Class<?> refc, String name, MethodType type, boolean special, int site)
            throws ReflectiveOperationException {
        if ((refc == ByteBuffer.class || refc == MappedByteBuffer.class) && name.equals("allocateDirect")
                && type.equals(MethodType.methodType(ByteBuffer.class, int.class))) {
            int s = derive(site, Call.ALLOCATE_DIRECT);
            return s == 0 ? null : trampolines.staticWithSite(type, name, Intercepts.BRIDGE, "allocateDirect",
                    MethodType.methodType(ByteBuffer.class, int.class, int.class), s);
        }
        if (refc == sun.misc.Unsafe.class || refc == internalUnsafe) {
            switch (name) {
                case "allocateMemory" -> {
                    int s = derive(site, Call.ALLOCATE_MEMORY);
                    return s == 0 || !type.equals(MethodType.methodType(long.class, refc, long.class)) ? null
                            : trampolines.staticWithSite(type, name, Intercepts.BRIDGE, name,
                            MethodType.methodType(long.class, refc, long.class, int.class), s);
                }
                case "reallocateMemory" -> {
                    if (!type.equals(MethodType.methodType(long.class, refc, long.class, long.class))) {
                        return null;
                    }
                    int s = derive(site, Call.ALLOCATE_MEMORY);
                    return s == 0 ? bridge(name, long.class, refc, long.class, long.class) // pool-aware, routes nothing
                            : trampolines.staticWithSite(type, name, Intercepts.BRIDGE, name,
                            MethodType.methodType(long.class, refc, long.class, long.class, int.class), s);
                }
                case "freeMemory" -> {
                    return !type.equals(MethodType.methodType(void.class, refc, long.class)) ? null
                            : bridge(name, void.class, refc, long.class);
                }
                default -> {
                    return null;
                }
            }
        }
        if (refc == java.lang.foreign.Linker.class && name.equals("downcallHandle") && !special && mh != null
                && type.returnType() == MethodHandle.class && type.parameterCount() > 0 && type.parameterType(0) == refc) {
            // the JDK's linker (patched) makes every handle pool-aware; a route taking downcall also routes allocations,
            // and one taking arena the structs its handles return into the program's arenas (DowncallRoutes.structReturn)
            int s = derive(site, Call.DOWNCALL);
            if (s == 0 && takes(site, Call.ARENA)) {
                s = site; // its handles derive the arena site they need, as a direct call's do
            }
            if (s == 0) {
                return null;
            }
            boolean bound = type.equals(MethodType.methodType(MethodHandle.class, refc, MemorySegment.class,
                    java.lang.foreign.FunctionDescriptor.class, java.lang.foreign.Linker.Option[].class));
            if (!bound && !type.equals(MethodType.methodType(MethodHandle.class, refc, java.lang.foreign.FunctionDescriptor.class,
                    java.lang.foreign.Linker.Option[].class))) {
                return null;
            }
            Class<?> fd = java.lang.foreign.FunctionDescriptor.class;
            Class<?> options = java.lang.foreign.Linker.Option[].class;
            MethodHandle adapt = bound
                    ? PUBLIC.findStatic(reflect, "downcall", MethodType.methodType(MethodHandle.class, MethodHandle.class,
                            MemorySegment.class, fd, options, int.class))
                    : PUBLIC.findStatic(reflect, "downcall", MethodType.methodType(MethodHandle.class, MethodHandle.class,
                            fd, options, int.class));
            adapt = MethodHandles.insertArguments(adapt, adapt.type().parameterCount() - 1, s); // (handle, [symbol,] fd, options)
            // (handle, linker, [symbol,] fd, options): the program's arguments after the handle the call returned
            adapt = MethodHandles.dropArguments(adapt, 1, refc);
            return MethodHandles.foldArguments(adapt, 0, mh.asFixedArity());
        }
        if ((refc == Arena.class || refc == SegmentAllocator.class) && !special && mh != null
                && (name.equals("allocate") || name.equals("allocateFrom")) && type.returnType() == MemorySegment.class
                && type.parameterCount() > 0 && type.parameterType(0) == refc) {
            int s = derive(site, Call.ARENA);
            if (s == 0) {
                return null;
            }
            Intercepts.Row row = Intercepts.find(refc.getName().replace('.', '/'), name, type.dropParameterTypes(0, 1)
                    .toMethodDescriptorString());
            if (row != null && row.action() == Intercepts.Action.ROUTE) { // hot members: the static bridge, no wrapper
                MethodType bridged = type.changeParameterType(0, SegmentAllocator.class).appendParameterTypes(int.class);
                return trampolines.staticWithSite(type, name, Intercepts.BRIDGE, row.bridge(), bridged, s);
            }
            // allocateFrom(layout, T...) is varargs: so is its trampoline, for revealDirect and reflectAs
            return trampolines.filteredReceiver(type, Intercepts.BRIDGE, refc == Arena.class ? "routeArena" : "routeAllocator",
                    refc, name, s, mh.isVarargsCollector());
        }
        return null;
    }

    private MethodHandle bridge(String name, Class<?> returns, Class<?>... parameters) throws ReflectiveOperationException {
        return PUBLIC.findStatic(bridge, name, MethodType.methodType(returns, parameters));
    }

    /** What {@code Method.invoke} calls instead of {@code m}: the method and the receiver to pass it. */
    record Reflected(Method method, Object receiver) {
    }

    Reflected reflect(Method m, Object receiver, int site) {
        Class<?> d = m.getDeclaringClass();
        String name = m.getName();
        Class<?>[] p = m.getParameterTypes(); // a copy per call: reflective calls of these names are rare
        try {
            if (d == ByteBuffer.class && name.equals("allocateDirect") && p.length == 1 && p[0] == int.class) {
                int s = derive(site, Call.ALLOCATE_DIRECT);
                return s == 0 ? null : new Reflected(standIns.get(name), invocationOf.invoke((Object) null, s));
            }
            if ((d == sun.misc.Unsafe.class || d == internalUnsafe) && d.isInstance(receiver)) {
                String prefix = d == internalUnsafe ? "internal" : "";
                String stand = d == internalUnsafe ? prefix + Character.toUpperCase(name.charAt(0)) + name.substring(1) : name;
                int s = switch (name) {
                    case "allocateMemory" -> derive(site, Call.ALLOCATE_MEMORY);
                    case "reallocateMemory" -> derive(site, Call.ALLOCATE_MEMORY);
                    case "freeMemory" -> 0;
                    default -> -1;
                };
                if (s < 0 || (s == 0 && name.equals("allocateMemory"))
                        || !java.util.Arrays.equals(p, name.equals("reallocateMemory") ? new Class<?>[] {long.class, long.class}
                        : new Class<?>[] {long.class})) {
                    return null;
                }
                return new Reflected(standIns.get(stand), invocationOf.invoke(receiver, s));
            }
            if ((d == SegmentAllocator.class || d == Arena.class) && receiver instanceof Arena arena
                    && m.getReturnType() == MemorySegment.class && (name.equals("allocate") || name.equals("allocateFrom"))) {
                int s = derive(site, Call.ARENA);
                return s == 0 ? null : new Reflected(m, routeArena.invoke(arena, s));
            }
        } catch (Throwable e) {
            return null; // left to the JDK
        }
        return null;
    }
}
