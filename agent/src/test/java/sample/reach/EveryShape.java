package sample.reach;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.invoke.MethodType.methodType;

import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongFunction;
import sample.reachapi.Way;

/**
 * Every shape the agent rewrites for arenas, run-time handles, reflection, downcalls and hidden classes, in one
 * class: CallSiteRewriterTest checks its rewritten bytecode (selected and not), ReachIT runs it under the agent both
 * ways.
 */
public final class EveryShape {
    /** {@code Arena::allocate}, receiver passed (reported as not routed in a selected class). */
    public interface UnboundAllocate {
        MemorySegment allocate(Arena arena, long size);
    }

    @Override
    public String toString() {
        return "every shape";
    }

    /** Runs every shape once; returns the address each reached (0 for the shapes that reach no memory). */
    public static Map<String, Long> run() throws Throwable {
        Map<String, Long> out = new LinkedHashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            out.put("Arena.allocate(long)", arena.allocate(64).address());
            out.put("Arena.allocate(long, long)", arena.allocate(64, 32).address());
            out.put("Arena.allocate(MemoryLayout)", arena.allocate(JAVA_LONG).address());
            out.put("Arena.allocate(MemoryLayout, long)", arena.allocate(JAVA_LONG, 4).address());
            out.put("Arena.allocateFrom(String)", arena.allocateFrom("every shape").address());
            out.put("Arena.allocateFrom(OfInt, int...)", arena.allocateFrom(JAVA_INT, 1, 2, 3).address());
            out.put("Arena.allocateFrom(OfLong, long)", arena.allocateFrom(JAVA_LONG, 7L).address());
            SegmentAllocator allocator = arena;
            out.put("SegmentAllocator.allocate(long)", allocator.allocate(64).address());
            LongFunction<MemorySegment> bound = arena::allocate;
            out.put("arena::allocate", bound.apply(64).address());
            UnboundAllocate unbound = Arena::allocate;
            out.put("Arena::allocate", unbound.allocate(arena, 64).address());

            MethodHandles.Lookup lookup = MethodHandles.lookup();
            MethodHandle findStatic = lookup.findStatic(ByteBuffer.class, "allocateDirect", methodType(ByteBuffer.class, int.class));
            ByteBuffer b = (ByteBuffer) findStatic.invokeExact(64);
            out.put("Lookup.findStatic", MemorySegment.ofBuffer(b).address());
            Way.UNSAFE.invokeCleaner(b);
            MethodHandle findVirtual = lookup.findVirtual(Arena.class, "allocate", methodType(MemorySegment.class, long.class));
            out.put("Lookup.findVirtual", ((MemorySegment) findVirtual.invokeExact(arena, 64L)).address());
            MethodHandle findSpecial = lookup.findSpecial(Object.class, "toString", methodType(String.class), EveryShape.class);
            check((String) findSpecial.invokeExact(new EveryShape()), "sample.");
            out.put("Lookup.findSpecial", 0L);
            MethodHandle bind = lookup.bind(Way.UNSAFE, "allocateMemory", methodType(long.class, long.class));
            long a = (long) bind.invokeExact(64L);
            out.put("Lookup.bind", a);
            Way.UNSAFE.freeMemory(a);
            MethodHandle unreflect = lookup.unreflect(SegmentAllocator.class.getMethod("allocate", long.class));
            out.put("Lookup.unreflect", ((MemorySegment) unreflect.invokeExact((SegmentAllocator) arena, 64L)).address());
            MethodHandle unreflectSpecial = lookup.unreflectSpecial(Object.class.getMethod("toString"), EveryShape.class);
            check((String) unreflectSpecial.invokeExact(new EveryShape()), "sample.");
            out.put("Lookup.unreflectSpecial", 0L);

            Method allocate = Arena.class.getMethod("allocate", long.class);
            out.put("Method.invoke", ((MemorySegment) allocate.invoke(arena, 64L)).address());

            Linker linker = Linker.nativeLinker();
            MethodHandle malloc = linker.downcallHandle(linker.defaultLookup().find("malloc").orElseThrow(),
                    FunctionDescriptor.of(ADDRESS, JAVA_LONG));
            MethodHandle freeAt = linker.downcallHandle(FunctionDescriptor.ofVoid(ADDRESS));
            MemorySegment p = (MemorySegment) malloc.invokeExact(64L);
            out.put("Linker.downcallHandle(MemorySegment, FunctionDescriptor)", p.address());
            freeAt.invokeExact(linker.defaultLookup().find("free").orElseThrow(), p);
            out.put("Linker.downcallHandle(FunctionDescriptor)", 0L);

            byte[] body;
            try (InputStream in = EveryShape.class.getResourceAsStream("HiddenBody.class")) {
                body = in.readAllBytes();
            }
            MethodHandles.Lookup hidden = lookup.defineHiddenClass(body, true, MethodHandles.Lookup.ClassOption.NESTMATE);
            out.put("Lookup.defineHiddenClass", hiddenAllocation(hidden));
            MethodHandles.Lookup withData = lookup.defineHiddenClassWithClassData(body, "data", false);
            out.put("Lookup.defineHiddenClassWithClassData", hiddenAllocation(withData));
        }
        return out;
    }

    /** Allocates through a hidden HiddenBody, frees it there, and returns the address. */
    private static long hiddenAllocation(MethodHandles.Lookup hidden) throws Throwable {
        MethodHandle allocate = hidden.findStatic(hidden.lookupClass(), "allocate", methodType(long.class, long.class));
        MethodHandle free = hidden.findStatic(hidden.lookupClass(), "free", methodType(void.class, long.class));
        long a = (long) allocate.invokeExact(64L);
        free.invokeExact(a);
        return a;
    }

    private static void check(String s, String prefix) {
        if (!s.startsWith(prefix)) {
            throw new AssertionError("Object.toString not called: " + s);
        }
    }
}
