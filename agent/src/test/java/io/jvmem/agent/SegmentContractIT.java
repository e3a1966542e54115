package io.jvmem.agent;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvmem.allocator.MemoryPool;
import io.jvmem.allocator.PoolCheck;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import sample.reachapi.Allocations;

/**
 * The contract of a segment from a routed arena call, rule by rule, each checked on a routed segment (allocated in
 * sample.reach, which the config selects) and on the JDK's own segment (the same code renamed into a package no
 * route selects): what holds for the JDK's must hold for ours.
 */
@org.junit.jupiter.api.Tag("integration")
class SegmentContractIT {
    private static final Allocations ROUTED = new sample.reach.SegmentCalls();
    private static final Allocations JDK = twin();
    private static final List<Allocations> BOTH = List.of(ROUTED, JDK);

    private static Allocations twin() {
        try {
            return (Allocations) Class.forName("sample.reachtwin.SegmentCalls", true, ReachWays.twin())
                    .getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static MemoryPool pool() {
        return Jvmem.pool("reach");
    }

    private static long inUse() {
        return pool().stats().allocated();
    }

    private static String name(Allocations a) {
        return a == ROUTED ? "routed" : "JDK";
    }

    /** A routed segment lies in the pool; the JDK's in none. */
    private static void assertFrom(Allocations a, MemorySegment s) {
        boolean inPool = InAgent.pools().stream().anyMatch(p -> p.contains(s.address()));
        assertEquals(a == ROUTED, inPool, name(a) + " segment at " + Long.toHexString(s.address()) + " in a pool");
    }

    private static void assertAllZero(MemorySegment s, String what) {
        for (long i = 0; i < s.byteSize(); i++) {
            if (s.get(JAVA_BYTE, i) != 0) {
                throw new AssertionError(what + ": byte " + i + " of " + s.byteSize() + " is not zero");
            }
        }
    }

    /**
     * Leaves freed pool blocks of these sizes full of junk, so that memory handed out next is zero only if zeroed;
     * returns their addresses.
     */
    private static java.util.Set<Long> dirtyThePool(long... sizes) {
        MemoryPool p = pool();
        java.util.Set<Long> dirty = new java.util.HashSet<>();
        for (long size : sizes) {
            long a = p.malloc(size);
            p.segment(a).fill((byte) 0xa5);
            p.free(a);
            dirty.add(a);
        }
        return dirty;
    }

    private static <T extends Throwable> T onAnotherThread(Class<T> expected, Executable e) throws Exception {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                e.execute();
            } catch (Throwable x) {
                thrown.set(x);
            }
        });
        t.join();
        assertNotNull(thrown.get(), "nothing thrown; expected " + expected.getSimpleName());
        assertTrue(expected.isInstance(thrown.get()), thrown.get().toString());
        return expected.cast(thrown.get());
    }

    @Test
    @Timeout(30)
    void segmentsAreZeroedAsTheJdksAre() {
        long[] sizes = {1, 7, 64, 4096, 100_000, 1 << 20};
        for (Allocations a : BOTH) {
            java.util.Set<Long> dirty = dirtyThePool(sizes);
            int reused = 0;
            try (Arena arena = Arena.ofConfined()) {
                for (long size : sizes) {
                    MemorySegment s = a.allocate(arena, size);
                    assertFrom(a, s);
                    assertAllZero(s, name(a) + " " + size);
                    reused += dirty.contains(s.address()) ? 1 : 0;
                }
            }
            if (a == ROUTED) {
                assertTrue(reused > 0, "no routed segment reused a dirtied block: the test proves nothing");
            }
        }
    }

    @Test
    @Timeout(60)
    void segmentsAreAlignedAndSizedAsAskedAsTheJdksAre() {
        long[] sizes = {0, 1, 7, 4096, 1 << 20};
        for (Allocations a : BOTH) {
            for (long size : sizes) {
                dirtyThePool(Math.max(size, 1), size + 4096);
                try (Arena arena = Arena.ofConfined()) {
                    for (long align = 1; align <= 4096; align <<= 1) {
                        MemorySegment s = a.allocate(arena, size, align);
                        String what = name(a) + " size " + size + " alignment " + align;
                        assertFrom(a, s);
                        assertEquals(0, s.address() % align, what + ": address " + Long.toHexString(s.address()));
                        assertEquals(size, s.byteSize(), what);
                        assertAllZero(s, what);
                    }
                }
            }
        }
    }

    @Test
    @Timeout(30)
    void aSegmentsScopeIsTheCallersArenaAsTheJdksIs() {
        for (Allocations a : BOTH) {
            for (Arena arena : new Arena[] {Arena.ofConfined(), Arena.ofShared(), Arena.ofAuto(), Arena.global()}) {
                MemorySegment s = a.allocate(arena, 256);
                assertFrom(a, s);
                assertEquals(arena.scope(), s.scope(), name(a) + " " + arena);
                try {
                    arena.close();
                } catch (UnsupportedOperationException autoOrGlobal) {
                    // these two cannot be closed
                }
            }
        }
    }

    @Test
    @Timeout(30)
    void closingTheArenaReturnsTheBlockToThePoolAtOnce() {
        long before = inUse();
        Arena arena = Arena.ofConfined();
        MemorySegment s = ROUTED.allocate(arena, 1 << 20);
        assertFrom(ROUTED, s);
        assertTrue(inUse() >= before + (1 << 20));
        arena.close();
        assertEquals(before, inUse());
        assertEquals(PoolCheck.Status.CONSISTENT, pool().check().status());
    }

    @Test
    @Timeout(30)
    void closingTheArenaEndsTheSegmentAsTheJdksIs() {
        for (Allocations a : BOTH) {
            Arena arena = Arena.ofShared();
            MemorySegment s = a.allocate(arena, 4096);
            assertTrue(s.scope().isAlive());
            arena.close();
            assertFalse(s.scope().isAlive(), name(a));
            assertThrows(IllegalStateException.class, () -> s.get(JAVA_INT, 0), name(a) + ": read after close");
            assertThrows(IllegalStateException.class, () -> s.set(JAVA_INT, 0, 1), name(a) + ": write after close");
        }
    }

    @Test
    @Timeout(30)
    void allocatingOnAClosedArenaThrowsIllegalStateExceptionAsTheJdksDoesAndLeaksNoBlock() {
        long errors = InAgent.releaseErrors();
        for (Allocations a : BOTH) {
            Arena arena = Arena.ofConfined();
            arena.close();
            long before = inUse();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.allocate(arena, 4096), name(a));
            assertEquals("Already closed", e.getMessage(), name(a));
            assertEquals(before, inUse(), name(a) + ": a pool block was left behind");
        }
        assertEquals(errors, InAgent.releaseErrors());
    }

    /** ofAuto memory comes back once the segment is unreachable; for the JDK, its direct-memory count drops. */
    @Test
    @Timeout(60)
    void anAutoArenasBlockComesBackWhenUnreachableAsTheJdksDoes() throws Exception {
        BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
        long poolBefore = inUse();
        long directBefore = direct.getMemoryUsed();
        MemorySegment routed = ROUTED.allocate(Arena.ofAuto(), 1 << 20);
        MemorySegment jdk = JDK.allocate(Arena.ofAuto(), 1 << 20);
        assertFrom(ROUTED, routed);
        assertFrom(JDK, jdk);
        assertTrue(inUse() >= poolBefore + (1 << 20));
        assertTrue(direct.getMemoryUsed() >= directBefore + (1 << 20));
        routed = null;
        jdk = null;
        long deadline = System.nanoTime() + 20_000_000_000L;
        while ((inUse() > poolBefore || direct.getMemoryUsed() > directBefore) && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(50);
        }
        assertEquals(poolBefore, inUse(), "the routed block came back");
        assertTrue(direct.getMemoryUsed() <= directBefore, "the JDK's memory came back");
        assertEquals(PoolCheck.Status.CONSISTENT, pool().check().status());
    }

    @Test
    @Timeout(30)
    void theGlobalArenasBlocksNeverComeBackAsTheJdksDoNot() throws Exception {
        MemorySegment routed = ROUTED.allocate(Arena.global(), 4096);
        MemorySegment jdk = JDK.allocate(Arena.global(), 4096);
        assertFrom(ROUTED, routed);
        assertFrom(JDK, jdk);
        long routedAddress = routed.address();
        routed = null;
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(30);
        }
        MemorySegment again = MemorySegment.ofAddress(routedAddress).reinterpret(4096);
        again.set(JAVA_LONG, 0, 42);
        assertEquals(42, again.get(JAVA_LONG, 0));
        assertTrue(jdk.scope().isAlive());
        assertTrue(Arena.global().scope().isAlive());
        // still a live block (the pool's in-use figure lags by up to 1 MiB per thread, a free does not): freeing it
        // here succeeds exactly once, so no cleanup had freed it
        pool().free(routedAddress);
        assertThrows(io.jvmem.allocator.InvalidFreeException.class, () -> pool().free(routedAddress));
    }

    @Test
    @Timeout(30)
    void aConfinedSegmentUsedFromAnotherThreadThrowsWrongThreadExceptionAsTheJdksDoes() throws Exception {
        for (Allocations a : BOTH) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment s = a.allocate(arena, 64);
                onAnotherThread(WrongThreadException.class, () -> s.get(JAVA_INT, 0));
                onAnotherThread(WrongThreadException.class, () -> s.set(JAVA_INT, 0, 1));
                s.set(JAVA_INT, 0, 7); // the owner still can
                assertEquals(7, s.get(JAVA_INT, 0));
            }
        }
    }

    @Test
    @Timeout(30)
    void allocatingFromAConfinedArenaOnAnotherThreadThrowsWrongThreadExceptionAsTheJdksDoesAndLeaksNoBlock() throws Exception {
        long errors = InAgent.releaseErrors();
        for (Allocations a : BOTH) {
            try (Arena arena = Arena.ofConfined()) {
                long before = inUse();
                onAnotherThread(WrongThreadException.class, () -> a.allocate(arena, 4096));
                assertEquals(before, inUse(), name(a) + ": a pool block was left behind");
            }
        }
        assertEquals(errors, InAgent.releaseErrors());
        assertEquals(PoolCheck.Status.CONSISTENT, pool().check().status());
    }

    @Test
    @Timeout(30)
    void aSharedArenasSegmentWorksFromEveryThreadAsTheJdksDoes() throws Exception {
        for (Allocations a : BOTH) {
            try (Arena arena = Arena.ofShared()) {
                MemorySegment s = a.allocate(arena, 64);
                CompletableFuture.runAsync(() -> s.set(JAVA_INT, 0, 99)).get();
                assertEquals(99, s.get(JAVA_INT, 0), name(a));
            }
        }
    }

    @Test
    @Timeout(30)
    void aNegativeSizeThrowsTheJdksIllegalArgumentException() {
        try (Arena arena = Arena.ofConfined()) {
            for (long size : new long[] {-1, Long.MIN_VALUE}) {
                IllegalArgumentException jdk = assertThrows(IllegalArgumentException.class, () -> JDK.allocate(arena, size));
                IllegalArgumentException ours = assertThrows(IllegalArgumentException.class, () -> ROUTED.allocate(arena, size));
                assertEquals(jdk.getMessage(), ours.getMessage());
            }
        }
    }

    @Test
    @Timeout(30)
    void aBadAlignmentThrowsTheJdksIllegalArgumentException() {
        long before = inUse();
        try (Arena arena = Arena.ofConfined()) {
            for (long align : new long[] {0, 3, 24, -8, Long.MIN_VALUE}) {
                IllegalArgumentException jdk = assertThrows(IllegalArgumentException.class, () -> JDK.allocate(arena, 64, align));
                IllegalArgumentException ours = assertThrows(IllegalArgumentException.class, () -> ROUTED.allocate(arena, 64, align));
                assertEquals(jdk.getMessage(), ours.getMessage(), "alignment " + align);
            }
        }
        assertEquals(before, inUse());
    }

    @Test
    @Timeout(30)
    void asByteBufferGivesADirectBufferOverTheSegmentsBytesAsTheJdksDoes() {
        for (Allocations a : BOTH) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment s = a.allocate(arena, 4096);
                assertFrom(a, s);
                ByteBuffer b = s.asByteBuffer();
                assertTrue(b.isDirect(), name(a));
                assertEquals(4096, b.capacity(), name(a));
                assertEquals(s.address(), MemorySegment.ofBuffer(b).address(), name(a));
                b.putLong(8, 0x0102030405060708L);
                assertEquals(0x0102030405060708L, s.get(JAVA_LONG.withOrder(b.order()), 8), name(a) + ": buffer to segment");
                s.set(JAVA_INT, 100, 0xcafe);
                assertEquals(0xcafe, b.order(JAVA_INT.order()).getInt(100), name(a) + ": segment to buffer");
            }
        }
    }

    @Test
    @Timeout(30)
    void allocateFromAStringRoundTripsAsTheJdksDoes() {
        String text = "jvmem: ünïcödé and more";
        for (Allocations a : BOTH) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment s = a.allocateFrom(arena, text);
                assertFrom(a, s);
                assertEquals(text, s.getString(0), name(a));
                assertEquals(text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 1, s.byteSize(), name(a));
            }
        }
    }

    @Test
    @Timeout(30)
    void allocateFromIntValuesRoundTripsAsTheJdksDoes() {
        int[] values = {1, -2, 3, Integer.MAX_VALUE, Integer.MIN_VALUE};
        for (Allocations a : BOTH) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment s = a.allocateFrom(arena, JAVA_INT, values);
                assertFrom(a, s);
                assertArrayEquals(values, s.toArray(JAVA_INT), name(a));
                assertEquals(0, s.address() % JAVA_INT.byteAlignment());
            }
        }
    }

    @Test
    @Timeout(30)
    void allocateOfALayoutRoundTripsAsTheJdksDoes() {
        MemoryLayout layout = MemoryLayout.structLayout(JAVA_INT.withName("a"), MemoryLayout.paddingLayout(4),
                JAVA_LONG.withName("b"), MemoryLayout.sequenceLayout(3, JAVA_INT).withName("c"), MemoryLayout.paddingLayout(4));
        VarHandle a0 = layout.varHandle(MemoryLayout.PathElement.groupElement("a"));
        VarHandle b0 = layout.varHandle(MemoryLayout.PathElement.groupElement("b"));
        for (Allocations a : BOTH) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment s = a.allocate(arena, layout);
                assertFrom(a, s);
                assertEquals(layout.byteSize(), s.byteSize(), name(a));
                assertEquals(0, s.address() % layout.byteAlignment(), name(a));
                assertAllZero(s, name(a));
                a0.set(s, 0L, 11);
                b0.set(s, 0L, 22L);
                assertEquals(11, (int) a0.get(s, 0L), name(a));
                assertEquals(22L, (long) b0.get(s, 0L), name(a));
            }
        }
    }

    @Test
    @Timeout(30)
    void anArenaTheProgramImplementsIsLeftAloneWhereItsOwnAllocationIsNotSelected() {
        try (Arena user = JDK.userArena()) {
            MemorySegment s = ROUTED.allocate(user, 4096); // a selected call, on the program's own arena
            assertFrom(JDK, s);
            assertEquals(user.scope(), s.scope());
        }
    }

    @Test
    @Timeout(30)
    void anArenaTheProgramImplementsTakesPoolMemoryWhereItsOwnAllocationIsSelected() {
        long before = inUse();
        try (Arena user = ROUTED.userArena()) {
            MemorySegment s = JDK.allocate(user, 4096); // an unselected call; the arena's own call inside is selected
            assertFrom(ROUTED, s);
            assertEquals(user.scope(), s.scope());
        }
        assertEquals(before, inUse());
    }

    /**
     * As the JDK's ofAuto memory (reserved like direct buffers: a full MaxDirectMemorySize makes it collect and
     * retry), unreachable routed ofAuto segments make room for new ones: fifty pools' worth fit with on-exhausted=fail.
     */
    @Test
    @Timeout(120)
    void droppedAutoArenaSegmentsAreReclaimedSoFiftyTimesThePoolSizeFitsWithOnExhaustedFail() throws Exception {
        assertChurnFits(50, "unreachable segments", total -> sample.reach.AutoArenas.churn(total, 1 << 20));
    }

    /** The same for segments aligned above the pool's 16-byte quantum, which the pool serves as aligned blocks. */
    @Test
    @Timeout(120)
    void droppedAlignedAutoArenaSegmentsAreReclaimedToo() throws Exception {
        assertChurnFits(20, "unreachable aligned segments", total -> sample.reach.AutoArenas.churn(total, 1 << 20, 64));
    }

    /**
     * The JDK checks the arena before it allocates, so a closed arena or a confined one used from another thread throws
     * its exception whatever the memory: with the route's pool full (on-exhausted=fail), a routed call throws the
     * JDK's IllegalStateException and WrongThreadException, with the JDK's messages, not the pool's OutOfMemoryError.
     */
    @Test
    @Timeout(120)
    void aClosedOrForeignArenaThrowsTheJdksExceptionWhenThePoolIsFull() throws Exception {
        long before = inUse();
        try (Arena mine = Arena.ofConfined(); Arena fill = Arena.ofShared()) {
            for (long size : new long[] {1 << 20, 4096, 64}) { // until not even 64 bytes fit
                try {
                    while (true) {
                        ROUTED.allocate(fill, size);
                    }
                } catch (OutOfMemoryError full) {
                    // the next size down
                }
            }
            assertTheJdksArenaExceptions(ROUTED::allocate, 64, mine);
        }
        settle(before);
    }

    /** allocateFrom of a segment with a negative or overflowing count: the JDK arenas' exception and message (breaker13). */
    @Test
    @Timeout(30)
    void allocateFromWithABadCountThrowsTheJdkArenasException() {
        MemorySegment src = MemorySegment.ofArray(new int[4]);
        for (long count : new long[] {-1, Long.MAX_VALUE}) {
            try (Arena arena = Arena.ofConfined()) {
                IllegalArgumentException jdk = assertThrows(IllegalArgumentException.class,
                        () -> JDK.allocateFrom(arena, src, count));
                IllegalArgumentException routed = assertThrows(IllegalArgumentException.class,
                        () -> ROUTED.allocateFrom(arena, src, count));
                assertEquals(jdk.getMessage(), routed.getMessage(), "count " + count);
            }
        }
    }

    /**
     * An alignment no address of the pool can meet, with on-exhausted=fail: the OutOfMemoryError says it is the
     * alignment, not the 16 bytes asked for, that the pool cannot hold (breaker13).
     */
    @Test
    @Timeout(30)
    void anAlignmentThePoolCannotMeetIsNamedInTheOutOfMemoryError() {
        try (Arena arena = Arena.ofConfined()) {
            String message = null;
            try {
                ROUTED.allocate(arena, 16, 1L << 30);
            } catch (OutOfMemoryError e) { // caught here: JUnit rethrows it
                message = e.getMessage();
            }
            assertNotNull(message, "the route fails what the pool cannot hold");
            assertTrue(message.contains("aligned to 1073741824"), message);
        }
    }

    /** A null layout: the JDK's NullPointerException, its (absent) message included (breaker12). */
    @Test
    @Timeout(30)
    void aNullLayoutThrowsTheJdksNullPointerException() {
        try (Arena arena = Arena.ofConfined()) {
            NullPointerException jdk = assertThrows(NullPointerException.class, () -> JDK.allocate(arena, (MemoryLayout) null));
            NullPointerException routed = assertThrows(NullPointerException.class,
                    () -> ROUTED.allocate(arena, (MemoryLayout) null));
            assertEquals(jdk.getMessage(), routed.getMessage());
        }
    }

    /**
     * The JDK checks the arena before it takes memory: a closed or foreign arena's request takes no pool block, is
     * zeroed nowhere and counts no allocation (a 64 MiB request would otherwise hold pool memory other threads need).
     */
    @Test
    @Timeout(60)
    void aClosedOrForeignArenaTakesNoPoolBlock() throws Exception {
        try (Arena mine = Arena.ofConfined()) {
            long mallocs = pool().stats().mallocs();
            assertTheJdksArenaExceptions(ROUTED::allocate, 1 << 20, mine);
            assertEquals(mallocs, pool().stats().mallocs(), "pool blocks taken for requests the JDK refuses");
        }
    }

    /**
     * The same with on-exhausted=fallback: the JDK's exception comes at once, with nothing waited for, and no fallback
     * is counted for a request the JDK refuses.
     */
    @Test
    @Timeout(120)
    void aClosedOrForeignArenaCountsNoFallbackWhenThePoolIsFull() throws Exception {
        MemoryPool small = Jvmem.pool("small");
        try (Arena mine = Arena.ofConfined(); Arena fill = Arena.ofShared()) {
            for (long size : new long[] {1 << 20, 4096, 64}) { // until not even 64 bytes fit
                while (small.contains(sample.fallback.Segments.allocate(fill, size).address())) {
                    // the next one
                }
            }
            long before = InAgent.fallbacks("fallback");
            assertTheJdksArenaExceptions(sample.fallback.Segments::allocate, 64, mine);
            assertEquals(before, InAgent.fallbacks("fallback"), "fallbacks counted for requests the JDK refused");
        }
    }

    /**
     * ofAuto segments dropped in a loop come back on the JDK's common cleaner thread, after the Reference Handler: with
     * on-exhausted=fallback a full pool waits for that thread too, so they are reclaimed, not sent to DRAM as if the
     * pool were full of live data (600 MiB through a 14 MiB pool; before, most fell back).
     */
    @Test
    @Timeout(120)
    void droppedOfAutoSegmentsAreReclaimedNotFallenBackWhenThePoolFillsUp() throws Exception {
        MemoryPool small = Jvmem.pool("small");
        long before = small.stats().allocated();
        long fallbacks = InAgent.fallbacks("fallback");
        int inPool = 0;
        for (int i = 0; i < 600; i++) {
            inPool += small.contains(sample.fallback.Segments.allocate(Arena.ofAuto(), 1 << 20).address()) ? 1 : 0;
        }
        long fellBack = InAgent.fallbacks("fallback") - fallbacks;
        settle(small, before);
        assertTrue(inPool >= 540, inPool + " of 600 from the pool, " + fellBack + " fell back");
    }

    /**
     * A request of {@code size} bytes through {@code routed} on a closed arena, and on {@code mine} from another thread:
     * the JDK's IllegalStateException and WrongThreadException, with the messages the JDK's twin gets.
     */
    private static void assertTheJdksArenaExceptions(java.util.function.BiFunction<Arena, Long, MemorySegment> routed,
                                                     long size, Arena mine) throws Exception {
        Arena closed = Arena.ofConfined();
        closed.close();
        IllegalStateException jdk = assertThrows(IllegalStateException.class, () -> JDK.allocate(closed, size));
        IllegalStateException r = assertThrows(IllegalStateException.class,
                () -> notOutOfMemory(() -> routed.apply(closed, size)));
        assertEquals(jdk.getMessage(), r.getMessage());
        WrongThreadException jdkWrong = onAnotherThread(WrongThreadException.class, () -> JDK.allocate(mine, size));
        WrongThreadException wrong = onAnotherThread(WrongThreadException.class,
                () -> notOutOfMemory(() -> routed.apply(mine, size)));
        assertEquals(jdkWrong.getMessage(), wrong.getMessage());
    }

    /** Runs {@code e}; an OutOfMemoryError becomes an AssertionError (JUnit rethrows the former, ending the JVM's run). */
    private static void notOutOfMemory(Executable e) throws Throwable {
        try {
            e.execute();
        } catch (OutOfMemoryError oom) {
            throw new AssertionError("the pool's OutOfMemoryError: " + oom.getMessage(), oom);
        }
    }

    /** Makes and drops {@code pools} pools' worth of 1 MiB ofAuto segments through {@code churn}: all are made. */
    private static void assertChurnFits(int pools, String what, java.util.function.LongToIntFunction churn)
            throws InterruptedException {
        long before = inUse();
        long total = pools * pool().size();
        int made;
        try {
            made = churn.applyAsInt(total);
        } catch (OutOfMemoryError e) { // JUnit rethrows errors of this type instead of failing the test
            throw new AssertionError("the pool filled up with " + what + ": " + e.getMessage(), e);
        }
        assertEquals(total / (1 << 20), made);
        settle(before);
    }

    /**
     * Collects until the pool holds no more than {@code before} again: the dropped segments go back on the cleaner
     * thread, which would otherwise still free them while a later test checks the pool's consistency.
     */
    private static void settle(long before) throws InterruptedException {
        settle(pool(), before);
    }

    private static void settle(MemoryPool p, long before) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (p.stats().allocated() > before && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
    }
}
