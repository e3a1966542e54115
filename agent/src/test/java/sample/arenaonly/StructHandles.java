package sample.arenaonly;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * libc's {@code div} returning its {@code div_t} by value, through a downcall handle made by {@code Linker.downcallHandle}
 * reached as a method handle found at run time (a class whose route takes {@code arena} but not {@code downcall}).
 */
public final class StructHandles {
    public static final StructLayout DIV_T = MemoryLayout.structLayout(JAVA_INT.withName("quot"), JAVA_INT.withName("rem"));

    private StructHandles() {
    }

    /** {@code div(numerator, denominator)}, its {@code div_t} allocated by {@code allocator}. */
    public static MemorySegment div(SegmentAllocator allocator, int numerator, int denominator) throws Throwable {
        MethodHandle make = MethodHandles.lookup().findVirtual(Linker.class, "downcallHandle", MethodType.methodType(
                MethodHandle.class, MemorySegment.class, FunctionDescriptor.class, Linker.Option[].class));
        Linker linker = Linker.nativeLinker();
        MethodHandle div = (MethodHandle) make.invoke(linker, linker.defaultLookup().find("div").orElseThrow(),
                FunctionDescriptor.of(DIV_T, JAVA_INT, JAVA_INT), new Linker.Option[0]);
        return (MemorySegment) div.invokeExact(allocator, numerator, denominator);
    }
}
