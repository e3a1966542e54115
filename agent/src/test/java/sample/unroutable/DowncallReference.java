package sample.unroutable;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jvmem.agent.Jvmem;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

/**
 * Selected in a JVM of its own, by a route taking {@code arena} only: a handle to libc's {@code ldiv}, whose
 * {@code ldiv_t} it returns by value into the caller's arena, made through a method reference to
 * {@code Linker.downcallHandle}. The reference is a handle in a bootstrap's arguments, which the agent does not
 * follow: the struct is not routed, and that is reported.
 */
public final class DowncallReference {
    private static final StructLayout LDIV_T = MemoryLayout.structLayout(JAVA_LONG.withName("quot"), JAVA_LONG.withName("rem"));

    private DowncallReference() {
    }

    private interface Make {
        MethodHandle make(MemorySegment function, FunctionDescriptor descriptor, Linker.Option... options);
    }

    public static void main(String[] args) throws Throwable {
        Linker linker = Linker.nativeLinker();
        Make make = linker::downcallHandle;
        MethodHandle ldiv = make.make(linker.defaultLookup().find("ldiv").orElseThrow(),
                FunctionDescriptor.of(LDIV_T, JAVA_LONG, JAVA_LONG));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment r = (MemorySegment) ldiv.invokeExact((SegmentAllocator) arena, 17L, 5L);
            System.out.println("in pool: " + Jvmem.pool("p").contains(r.address()));
        }
    }
}
