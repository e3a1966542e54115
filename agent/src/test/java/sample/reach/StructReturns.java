package sample.reach;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

/**
 * A C function returning a struct by value (libc's {@code div}, {@code div_t}), as jextract binds it: the downcall
 * handle takes a leading {@code SegmentAllocator}, and the JDK's linker allocates the returned struct from it.
 */
public final class StructReturns {
    public static final StructLayout DIV_T = MemoryLayout.structLayout(JAVA_INT.withName("quot"), JAVA_INT.withName("rem"));
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemorySegment DIV_FUNCTION = LINKER.defaultLookup().find("div").orElseThrow();
    private static final FunctionDescriptor DIV_DESCRIPTOR = FunctionDescriptor.of(DIV_T, JAVA_INT, JAVA_INT);
    private static final MethodHandle DIV = LINKER.downcallHandle(DIV_FUNCTION, DIV_DESCRIPTOR);
    private static final MethodHandle DIV_AT = LINKER.downcallHandle(DIV_DESCRIPTOR);

    private StructReturns() {
    }

    /** {@code div(numerator, denominator)}, its {@code div_t} allocated by {@code allocator}. */
    public static MemorySegment div(SegmentAllocator allocator, int numerator, int denominator) throws Throwable {
        return (MemorySegment) DIV.invokeExact(allocator, numerator, denominator);
    }

    /** The same through a handle taking the function's address first. */
    public static MemorySegment divAt(SegmentAllocator allocator, int numerator, int denominator) throws Throwable {
        return (MemorySegment) DIV_AT.invokeExact(DIV_FUNCTION, allocator, numerator, denominator);
    }
}
