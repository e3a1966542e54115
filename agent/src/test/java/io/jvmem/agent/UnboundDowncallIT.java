package io.jvmem.agent;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sample.unrouted.UnboundDowncalls;

/**
 * A downcall handle without a bound function ({@code Linker.downcallHandle(descriptor)}) of free's shape,
 * {@code void f(void *)}, is made pool-aware in every class, but it may call any such function: here glibc's
 * {@code lcong48(unsigned short param[7])}, which sets the {@code lrand48} generator from the seven shorts it reads.
 * Its segment argument must reach the JDK unchanged, as without the agent. The handles are made in
 * {@link UnboundDowncalls}, a class the agent rewrites and no route selects.
 */
@org.junit.jupiter.api.Tag("integration")
class UnboundDowncallIT {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemorySegment LCONG48 = LINKER.defaultLookup().find("lcong48").orElseThrow();
    private static final MethodHandle LRAND48 = LINKER.downcallHandle(
            LINKER.defaultLookup().find("lrand48").orElseThrow(), FunctionDescriptor.of(JAVA_LONG));
    /** X, a and c of lrand48's X' = a * X + c (each 48 bits as three shorts, low first). */
    private static final short[] PARAM = {(short) 0x9abc, 0x5678, 0x1234, (short) 0xe66d, (short) 0xdeec, 0x0005, 0x000b};

    private static long seededThenDrawn(Runnable seed) throws Throwable {
        seed.run();
        return (long) LRAND48.invokeExact();
    }

    @Test
    @Timeout(30)
    void aHeapSegmentReachesACriticalFunctionAsTheArrayItIs() throws Throwable {
        MethodHandle unbound = UnboundDowncalls.voidOfPointer(Linker.Option.critical(true));
        short[] param = PARAM.clone();
        long drawn = seededThenDrawn(() -> {
            try {
                unbound.invokeExact(LCONG48, MemorySegment.ofArray(param));
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        });
        // the same seed from native memory through a handle the agent leaves alone (no function of free's shape)
        long expected;
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle plain = LINKER.downcallHandle(LCONG48, FunctionDescriptor.ofVoid(ADDRESS));
            MemorySegment s = arena.allocateFrom(JAVA_SHORT, param);
            expected = seededThenDrawn(() -> {
                try {
                    plain.invokeExact(s);
                } catch (Throwable t) {
                    throw new AssertionError(t);
                }
            });
        }
        assertEquals(expected, drawn, "lcong48 did not read the heap array it was given");
    }

    @Test
    @Timeout(30)
    void aClosedSegmentIsRefusedAsTheJdkRefusesIt() {
        MethodHandle unbound = UnboundDowncalls.voidOfPointer();
        MemorySegment closed;
        try (Arena arena = Arena.ofConfined()) {
            closed = arena.allocateFrom(JAVA_SHORT, PARAM);
        }
        assertThrows(IllegalStateException.class, () -> {
            unbound.invokeExact(LCONG48, closed);
        },
                "a closed segment's freed memory was passed to native code");
    }
}
