package io.jvmem.agent.bridge;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;

/**
 * The redirect target of run-time ways to reach an intercepted member (renamed {@code java.nio.JvmemReflect}):
 * {@code Lookup.findStatic/findVirtual/findSpecial/bind/unreflect/unreflectSpecial}, handle constants,
 * {@code Method.invoke}, {@code Linker.downcallHandle} and {@code Lookup.defineHiddenClass}. Each performs the
 * program's own call first (the same access checks and exceptions), and only then asks the {@link Hooks} to route
 * what it got when it names an intercepted member; the {@code site} is the call site's id, 0 outside any route.
 * Handles keep their exact type, so {@code invokeExact} works on them as before.
 */
public final class Reflect {
    private Reflect() {
    }

    /**
     * The names of the intercepted members, for a name a program passes to a lookup (not necessarily interned): the
     * lookup itself costs far more than interning it. Anything else passes untouched.
     */
    static boolean intercepted(String name) {
        return interceptedMethod(name.intern());
    }

    public static MethodHandle findStatic(MethodHandles.Lookup l, Class<?> refc, String name, MethodType type, int site)
            throws NoSuchMethodException, IllegalAccessException {
        MethodHandle mh = l.findStatic(refc, name, type);
        return intercepted(name) ? Bridge.h.routeHandle(mh, refc, name, false, site) : mh;
    }

    public static MethodHandle findVirtual(MethodHandles.Lookup l, Class<?> refc, String name, MethodType type, int site)
            throws NoSuchMethodException, IllegalAccessException {
        MethodHandle mh = l.findVirtual(refc, name, type);
        return intercepted(name) ? Bridge.h.routeHandle(mh, refc, name, false, site) : mh;
    }

    public static MethodHandle findSpecial(MethodHandles.Lookup l, Class<?> refc, String name, MethodType type,
                                           Class<?> specialCaller, int site)
            throws NoSuchMethodException, IllegalAccessException {
        MethodHandle mh = l.findSpecial(refc, name, type, specialCaller);
        return intercepted(name) ? Bridge.h.routeHandle(mh, refc, name, true, site) : mh;
    }

    public static MethodHandle bind(MethodHandles.Lookup l, Object receiver, String name, MethodType type, int site)
            throws NoSuchMethodException, IllegalAccessException {
        MethodHandle mh = l.bind(receiver, name, type);
        return intercepted(name) ? Bridge.h.routeBound(mh, receiver, name, site) : mh;
    }

    public static MethodHandle unreflect(MethodHandles.Lookup l, Method m, int site) throws IllegalAccessException {
        MethodHandle mh = l.unreflect(m);
        return interceptedMethod(m.getName()) ? Bridge.h.routeHandle(mh, m.getDeclaringClass(), m.getName(), false, site) : mh;
    }

    public static MethodHandle unreflectSpecial(MethodHandles.Lookup l, Method m, Class<?> specialCaller, int site)
            throws IllegalAccessException {
        MethodHandle mh = l.unreflectSpecial(m, specialCaller);
        return interceptedMethod(m.getName()) ? Bridge.h.routeHandle(mh, m.getDeclaringClass(), m.getName(), true, site) : mh;
    }

    /** A handle constant ({@code ldc}) of the intercepted member in row {@code row} of the agent's table. */
    public static MethodHandle constant(MethodHandle mh, int row, int site) {
        return Bridge.h.routeRow(mh, row, site);
    }

    /** {@code Method.invoke}'s method: the intercepted member's stand-in, or {@code m} itself. */
    @ForceInlineStub
    public static Method invokeTarget(Method m, Object receiver, int site) {
        return m != null && interceptedMethod(m.getName()) ? Bridge.h.reflectTarget(m, receiver, site) : m;
    }

    /** {@code Method.invoke}'s receiver: the stand-in's holder or a routing arena, or {@code receiver} itself. */
    @ForceInlineStub
    public static Object invokeReceiver(Method m, Object receiver, int site) {
        return m != null && interceptedMethod(m.getName()) ? Bridge.h.reflectReceiver(m, receiver, site) : receiver;
    }

    /**
     * {@link #intercepted} for an interned name, such as a reflected method's, by identity: the JVM interns the names of
     * the {@code Method} objects it makes ({@code MethodInvokeNamesTest} checks it), so for a {@code Method} the JIT
     * holds as a constant (a static final, the common case) this folds to false and {@code Method.invoke} stays as fast
     * as without the agent; a string switch hashes the name, which the JIT does not fold, and cost 12 ns per reflective
     * call.
     */
    @ForceInlineStub
    static boolean interceptedMethod(String name) {
        return name == "allocateDirect" || name == "allocateMemory" || name == "reallocateMemory" || name == "freeMemory"
                || name == "allocate" || name == "allocateFrom" || name == "downcallHandle";
    }

    /** A downcall handle bound to {@code function}: libc's allocation functions become pool-aware or routed. */
    public static MethodHandle downcall(MethodHandle mh, MemorySegment function, FunctionDescriptor fd,
                                        Linker.Option[] options, int site) {
        return function == null || function.address() == 0 || site == 0 && linkerAdapts ? mh
                : Bridge.h.routeDowncall(mh, function.address(), fd, options, site);
    }

    /** A downcall handle whose function address is its first argument. */
    public static MethodHandle downcall(MethodHandle mh, FunctionDescriptor fd, Linker.Option[] options, int site) {
        return site == 0 && linkerAdapts ? mh : Bridge.h.routeDowncall(mh, 0, fd, options, site);
    }

    /**
     * Set once the JDK's linker calls {@link #linked} (the agent patched it): every handle is then pool-aware as made,
     * and a rewritten call site outside any route has nothing left to do.
     */
    private static volatile boolean linkerAdapts;

    /**
     * Called by the JDK's {@code AbstractLinker.downcallHandle(symbol, function, options)} (patched by the agent) with
     * the handle it is about to return, however the program reached it: pool-aware if {@code symbol} is libc's free or
     * realloc, otherwise the handle itself. Never throws: the JDK's method must behave as before.
     */
    public static MethodHandle linked(MethodHandle mh, MemorySegment symbol, FunctionDescriptor fd,
                                      Linker.Option[] options) {
        return symbol == null || symbol.address() == 0 ? mh : linkedAt(mh, symbol.address(), fd, options);
    }

    /** As {@link #linked(MethodHandle, MemorySegment, FunctionDescriptor, Linker.Option[])}, for a handle taking the function's address. */
    public static MethodHandle linked(MethodHandle mh, FunctionDescriptor fd, Linker.Option[] options) {
        return linkedAt(mh, 0, fd, options);
    }

    /** The hooks' form of {@code mh} (function 0: its first argument), or {@code mh} itself if none or on any failure. */
    private static MethodHandle linkedAt(MethodHandle mh, long function, FunctionDescriptor fd, Linker.Option[] options) {
        Hooks hooks = Bridge.h;
        if (hooks == null || mh == null) {
            return mh;
        }
        linkerAdapts = true;
        try {
            return hooks.routeDowncall(mh, function, fd, options, 0);
        } catch (Throwable t) {
            return mh; // the hooks report their failures themselves
        }
    }

    /** Hidden classes are not given to class-file transformers: their bytes are rewritten here instead. */
    public static MethodHandles.Lookup defineHiddenClass(MethodHandles.Lookup l, byte[] bytes, boolean initialize,
                                                         MethodHandles.Lookup.ClassOption[] options, int site)
            throws IllegalAccessException {
        return l.defineHiddenClass(Bridge.h.rewriteHidden(l.lookupClass(), bytes), initialize, options);
    }

    public static MethodHandles.Lookup defineHiddenClassWithClassData(MethodHandles.Lookup l, byte[] bytes, Object data,
                                                                      boolean initialize,
                                                                      MethodHandles.Lookup.ClassOption[] options, int site)
            throws IllegalAccessException {
        return l.defineHiddenClassWithClassData(Bridge.h.rewriteHidden(l.lookupClass(), bytes), data, initialize, options);
    }
}
