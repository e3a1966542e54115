package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvmem.allocator.InvalidFreeException;
import io.jvmem.allocator.MemoryPool;
import io.jvmem.allocator.PoolCheck;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import sample.reachapi.Way;

/**
 * Every way a program reaches off-heap memory, under the real agent jar: in a class the config selects, the memory
 * comes from the route's pool; in a class no route selects, from the JDK or libc; and a pool block given back through
 * the way (by a selected or an unselected class) returns to its pool. The ways are written once in sample.reach; the
 * unselected copies are the same class files renamed ({@link ReachWays}).
 */
@org.junit.jupiter.api.Tag("integration")
class ReachIT {
    private static final long SIZE = 10_000;
    private static final Map<String, Way> SELECTED = ReachWays.load(ReachIT.class.getClassLoader(), ReachWays.SELECTED);
    private static final ClassLoader TWIN = ReachWays.twin();
    private static final Map<String, Way> UNSELECTED = ReachWays.load(TWIN, ReachWays.UNSELECTED);
    private static final sun.misc.Unsafe U = Way.UNSAFE;

    static Stream<String> ways() {
        return SELECTED.keySet().stream();
    }

    static Stream<String> freeingWays() {
        return SELECTED.entrySet().stream().filter(e -> e.getValue().frees()).map(Map.Entry::getKey);
    }

    private static MemoryPool pool() {
        return Jvmem.pool("reach");
    }

    private static boolean inAnyPool(long address) {
        return InAgent.pools().stream().anyMatch(p -> p.contains(address));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ways")
    @Timeout(30)
    void aSelectedClassGetsItsMemoryFromTheRoutesPool(String way) throws Throwable {
        long before = pool().stats().allocated();
        Way.Block b = SELECTED.get(way).allocate(SIZE);
        try {
            assertTrue(pool().contains(b.address()), "not a pool address: " + Long.toHexString(b.address()));
            long inUse = pool().stats().allocated();
            assertTrue(inUse >= before + SIZE, "in use " + before + " -> " + inUse);
        } finally {
            b.release();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ways")
    @Timeout(30)
    void anUnselectedClassGetsNoPoolMemory(String way) throws Throwable {
        long before = pool().stats().allocated();
        Way.Block b = UNSELECTED.get(way).allocate(SIZE);
        try {
            assertFalse(inAnyPool(b.address()), "a pool address: " + Long.toHexString(b.address()));
            assertEquals(before, pool().stats().allocated());
        } finally {
            b.release();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ways")
    @Timeout(30)
    void releasingPoolMemoryTheWaysOwnWayReturnsItToThePool(String way) throws Throwable {
        long before = pool().stats().allocated();
        Way.Block b = SELECTED.get(way).allocate(SIZE);
        assertTrue(pool().contains(b.address()));
        b.release();
        assertEquals(before, pool().stats().allocated());
        assertEquals(PoolCheck.Status.CONSISTENT, pool().check().status());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("freeingWays")
    @Timeout(30)
    void aPoolAddressFreedThisWayInAnUnselectedClassReturnsToThePool(String way) throws Throwable {
        long before = pool().stats().allocated();
        Way.Block b = SELECTED.get(way).allocate(SIZE);
        assertTrue(pool().contains(b.address()));
        UNSELECTED.get(way).free(b.address());
        assertEquals(before, pool().stats().allocated());
        assertEquals(PoolCheck.Status.CONSISTENT, pool().check().status());
    }

    @Test
    @Timeout(30)
    void aPoolAwareFreeHandleRefusesTheSegmentsTheJdksRefusesWithTheJdksExceptions() throws Throwable {
        java.lang.foreign.Linker linker = java.lang.foreign.Linker.nativeLinker();
        MethodHandle free = linker.downcallHandle(linker.defaultLookup().find("free").orElseThrow(),
                java.lang.foreign.FunctionDescriptor.ofVoid(java.lang.foreign.ValueLayout.ADDRESS));
        // a heap segment's address is its offset: freed, it crashed the JVM
        MemorySegment heap = MemorySegment.ofArray(new byte[64]).asSlice(16);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> { free.invokeExact(heap); });
        assertTrue(e.getMessage().startsWith("Heap segment not allowed"), e.getMessage());
        // a pool block seen through a closed arena: the JDK refuses it, and the block stays allocated
        Way.Block b = SELECTED.get("libc: malloc and free").allocate(SIZE);
        long inUse = pool().stats().allocated();
        Arena closed = Arena.ofConfined();
        MemorySegment stale = MemorySegment.ofAddress(b.address()).reinterpret(SIZE, closed, null);
        closed.close();
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> { free.invokeExact(stale); });
        assertEquals(inUse, pool().stats().allocated());
        b.release();
        assertEquals(PoolCheck.Status.CONSISTENT, pool().check().status());
    }

    // Method.invoke keeps its contract for the members it reaches in another way

    /** {@code Method.invoke} made by a class: sample.reach.Invoker selected or unselected, or this class (the JDK's). */
    private interface Invoke {
        Object invoke(Method m, Object receiver, Object... args) throws Throwable;
    }

    private static Invoke invoker(ClassLoader loader, String pkg) {
        try {
            MethodHandle mh = MethodHandles.publicLookup().findStatic(Class.forName((pkg + "Invoker").replace('/', '.'), true, loader),
                    "invoke", MethodType.methodType(Object.class, Method.class, Object.class, Object[].class));
            return (m, receiver, args) -> (Object) mh.invokeExact(m, receiver, args);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final Invoke JDK_INVOKE = Method::invoke; // this class is never rewritten
    private static final List<Invoke> REWRITTEN_INVOKES = List.of(invoker(ReachIT.class.getClassLoader(), ReachWays.SELECTED),
            invoker(TWIN, ReachWays.UNSELECTED));

    /** What a call threw: classes and messages down the cause chain. */
    private static String outcome(Invoke invoke, Method m, Object receiver, Object... args) {
        try {
            Object r = invoke.invoke(m, receiver, args);
            if (r instanceof ByteBuffer b) {
                U.invokeCleaner(b);
            }
            return "returned";
        } catch (Throwable t) {
            StringBuilder b = new StringBuilder();
            for (Throwable c = t; c != null; c = c.getCause()) {
                b.append(c.getClass().getName()).append(": ").append(c.getMessage()).append(" / ");
            }
            return b.toString();
        }
    }

    /** The same outcome from a selected and an unselected class as from the JDK's Method.invoke. */
    private static void assertSameAsTheJdk(Method m, Object receiver, Object... args) {
        String jdk = outcome(JDK_INVOKE, m, receiver, args);
        for (Invoke invoke : REWRITTEN_INVOKES) {
            assertEquals(jdk, outcome(invoke, m, receiver, args), m + " on " + receiver);
        }
    }

    @Test
    @Timeout(30)
    void aRunTimeHandleOfAnInterceptedMemberStaysADirectHandleSoRevealDirectNamesItsMember() throws Throwable {
        Map<String, String> expected = new java.util.LinkedHashMap<>();
        for (String k : List.of("allocateDirect", "allocateMemory", "reallocateMemory", "freeMemory", "allocate",
                "allocate aligned", "allocateFrom")) {
            expected.put(k, k.replace(" aligned", ""));
        }
        for (ClassLoader loader : List.of(ReachIT.class.getClassLoader(), TWIN)) {
            String pkg = loader == TWIN ? ReachWays.UNSELECTED : ReachWays.SELECTED;
            Method revealed = Class.forName(pkg.replace('/', '.') + "HandleInfo", true, loader).getMethod("revealed");
            assertEquals(expected, revealed.invoke(null), pkg);
        }
    }

    @Test
    @Timeout(30)
    void theBridgeDefinesSiteClassesForTheAgentsHooksOnly() throws Throwable {
        MethodHandle define = MethodHandles.publicLookup().findStatic(Class.forName(Intercepts.BRIDGE.replace('/', '.')),
                "defineSiteClass", MethodType.methodType(Class.class, Object.class, byte[].class));
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> { Class<?> c = (Class<?>) define.invokeExact((Object) new Object(), new byte[0]); });
        assertTrue(e.getMessage().contains("only the agent's hooks"), e.getMessage());
    }

    @Test
    @Timeout(30)
    void methodInvokeOfAMemberThatThrowsStillThrowsInvocationTargetExceptionWithItsCause() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            List<Runnable> checks = new ArrayList<>();
            Method allocateDirect = ByteBuffer.class.getMethod("allocateDirect", int.class);
            Method allocateMemory = sun.misc.Unsafe.class.getMethod("allocateMemory", long.class);
            Method reallocateMemory = sun.misc.Unsafe.class.getMethod("reallocateMemory", long.class, long.class);
            Method allocate = Arena.class.getMethod("allocate", long.class);
            Method allocateAligned = Arena.class.getMethod("allocate", long.class, long.class);
            assertTrue(outcome(JDK_INVOKE, allocateDirect, null, -1).startsWith(InvocationTargetException.class.getName()));
            assertSameAsTheJdk(allocateDirect, null, -1);
            assertSameAsTheJdk(allocateMemory, U, -1L);
            assertSameAsTheJdk(reallocateMemory, U, 0L, -1L);
            assertSameAsTheJdk(allocate, arena, -1L);
            assertSameAsTheJdk(allocateAligned, arena, 64L, 3L);
        }
    }

    @Test
    @Timeout(30)
    void methodInvokeWithABadArgumentOrReceiverStillThrowsTheJdksException() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Method allocateDirect = ByteBuffer.class.getMethod("allocateDirect", int.class);
            Method allocateMemory = sun.misc.Unsafe.class.getMethod("allocateMemory", long.class);
            Method freeMemory = sun.misc.Unsafe.class.getMethod("freeMemory", long.class);
            Method allocate = Arena.class.getMethod("allocate", long.class);
            assertTrue(outcome(JDK_INVOKE, allocateDirect, null, "x").startsWith(IllegalArgumentException.class.getName()));
            assertSameAsTheJdk(allocateDirect, null, "x");
            assertSameAsTheJdk(allocateDirect, null, 1L);
            assertSameAsTheJdk(allocateDirect, null);
            assertSameAsTheJdk(allocateDirect, null, 1, 2);
            assertSameAsTheJdk(allocateDirect, null, (Object) null);
            assertSameAsTheJdk(allocateMemory, U, "x");
            assertSameAsTheJdk(allocateMemory, "not an Unsafe", 8L);
            assertSameAsTheJdk(allocateMemory, null, 8L);
            assertSameAsTheJdk(freeMemory, U, (Object) null);
            assertSameAsTheJdk(allocate, arena, "x");
            assertSameAsTheJdk(allocate, "not an arena", 8L);
        }
    }

    @Test
    @Timeout(30)
    void methodInvokeWideningAnArgumentStillWorksAndIsRouted() throws Throwable {
        Method allocateDirect = ByteBuffer.class.getMethod("allocateDirect", int.class);
        ByteBuffer b = (ByteBuffer) REWRITTEN_INVOKES.get(0).invoke(allocateDirect, null, (short) 100);
        try {
            assertEquals(100, b.capacity());
            assertTrue(pool().contains(MemorySegment.ofBuffer(b).address()));
        } finally {
            U.invokeCleaner(b);
        }
    }

    // libc's realloc and free, in a class no route selects, given pool blocks

    private static long twinRealloc(long address, long size) throws Throwable {
        MethodHandle realloc = MethodHandles.publicLookup().findStatic(
                Class.forName("sample.reachtwin.LibcWays", true, TWIN), "realloc", MethodType.methodType(long.class, long.class, long.class));
        return (long) realloc.invokeExact(address, size);
    }

    @Test
    @Timeout(30)
    void libcReallocInAnUnselectedClassResizesAPoolBlockInItsPoolKeepingItsBytes() throws Throwable {
        long before = pool().stats().allocated();
        Way.Block b = SELECTED.get("libc: malloc and free").allocate(1000);
        MemorySegment.ofAddress(b.address()).reinterpret(1000).fill((byte) 0x3c);
        long r = twinRealloc(b.address(), 200_000);
        assertTrue(pool().contains(r), "moved out of the pool");
        MemorySegment grown = MemorySegment.ofAddress(r).reinterpret(200_000);
        for (int i = 0; i < 1000; i++) {
            assertEquals(0x3c, grown.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i), "byte " + i);
        }
        UNSELECTED.get("libc: malloc and free").free(r);
        assertEquals(before, pool().stats().allocated());
        assertEquals(PoolCheck.Status.CONSISTENT, pool().check().status());
    }

    @Test
    @Timeout(30)
    void libcReallocInAnUnselectedClassMovesAPoolBlockTooBigForThePoolToLibcKeepingItsBytes() throws Throwable {
        long before = pool().stats().allocated();
        Way.Block b = SELECTED.get("libc: malloc and free").allocate(1000);
        MemorySegment.ofAddress(b.address()).reinterpret(1000).fill((byte) 0x5d);
        long big = 2 * pool().size();
        long r = twinRealloc(b.address(), big);
        assertTrue(r != 0, "realloc failed");
        assertFalse(pool().contains(r), "cannot be in the pool: " + big + " bytes");
        assertEquals(before, pool().stats().allocated(), "the pool block was freed");
        MemorySegment moved = MemorySegment.ofAddress(r).reinterpret(1000);
        for (int i = 0; i < 1000; i++) {
            assertEquals(0x5d, moved.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i), "byte " + i);
        }
        UNSELECTED.get("libc: malloc and free").free(r);
    }

    @Test
    @Timeout(30)
    void unsafeReallocateMemoryInAnUnselectedClassMovesAPoolBlockTooBigForThePoolToTheJdkKeepingItsBytes() throws Throwable {
        long before = pool().stats().allocated();
        Way.Block b = SELECTED.get("Unsafe: direct call").allocate(1000);
        U.setMemory(b.address(), 1000, (byte) 0x6e);
        long r = sample.unrouted.Frees.reallocate(U, b.address(), 2 * pool().size());
        assertFalse(pool().contains(r));
        assertEquals(before, pool().stats().allocated(), "the pool block was freed");
        for (int i = 0; i < 1000; i++) {
            assertEquals(0x6e, U.getByte(r + i), "byte " + i);
        }
        UNSELECTED.get("Unsafe: direct call").free(r);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("freeingWays")
    @Timeout(30)
    void aDoubleFreeOfAPoolAddressThisWayIsATypedExceptionAndThePoolStaysIntact(String way) throws Throwable {
        Way.Block b = SELECTED.get(way).allocate(SIZE);
        UNSELECTED.get(way).free(b.address());
        Throwable t = org.junit.jupiter.api.Assertions.assertThrows(Throwable.class, () -> UNSELECTED.get(way).free(b.address()));
        Throwable cause = t instanceof InvocationTargetException ite ? ite.getCause() : t; // Method.invoke wraps it
        assertTrue(cause instanceof InvalidFreeException, t.toString());
        assertEquals(PoolCheck.Status.CONSISTENT, pool().check().status());
    }

    /** sample.reach.EveryShape, whose rewritten bytecode CallSiteRewriterTest checks, runs under the agent both ways. */
    @Test
    @Timeout(30)
    void theClassWithEveryReachShapeRunsRewrittenSelectedAndNot() throws Throwable {
        long before = pool().stats().allocated();
        Map<String, Long> selected = sample.reach.EveryShape.run();
        @SuppressWarnings("unchecked")
        Map<String, Long> unselected = (Map<String, Long>) Class.forName("sample.reachtwin.EveryShape", true, TWIN)
                .getMethod("run").invoke(null);
        assertEquals(selected.keySet(), unselected.keySet());
        List<String> noMemory = List.of("Lookup.findSpecial", "Lookup.unreflectSpecial", "Linker.downcallHandle(FunctionDescriptor)");
        for (String shape : selected.keySet()) {
            if (noMemory.contains(shape)) {
                continue;
            }
            boolean routable = !shape.equals("Arena::allocate"); // unbound: reported, not routed
            assertEquals(routable, pool().contains(selected.get(shape)), "selected: " + shape);
            assertFalse(inAnyPool(unselected.get(shape)), "unselected: " + shape);
        }
        assertEquals(before, pool().stats().allocated(), "everything went back");
    }

    @Test
    @Timeout(30)
    void aSerializableMethodReferenceToFreeMemorySurvivesSerializationAndStaysPoolAware() throws Throwable {
        sample.reach.SerialFree.Free f = sample.reach.SerialFree.roundTrip(sample.reach.SerialFree.reference());
        long before = pool().stats().allocated();
        Way.Block b = SELECTED.get("Unsafe: direct call").allocate(SIZE);
        f.free(U, b.address());
        assertEquals(before, pool().stats().allocated());
    }

    @Test
    @Timeout(30)
    void libcCallocFromASelectedClassGivesZeroedPoolMemoryEvenWhereThePoolWasDirty() throws Throwable {
        MemoryPool p = pool();
        long dirty = p.malloc(SIZE);
        p.segment(dirty).fill((byte) 0xa5);
        p.free(dirty);
        Way.Block b = SELECTED.get("libc: calloc").allocate(SIZE);
        try {
            assertEquals(dirty, b.address(), "the dirtied block was not reused: the test proves nothing");
            MemorySegment s = MemorySegment.ofAddress(b.address()).reinterpret(SIZE);
            for (long i = 0; i < SIZE; i++) {
                assertEquals(0, s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i), "byte " + i);
            }
        } finally {
            b.release();
        }
    }
}
