package sample.reach;

import static java.lang.invoke.MethodType.methodType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Method;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongFunction;
import sample.reachapi.Way;

/** Arena.allocate (the JDK's arenas) reached every way a program can. */
public final class ArenaWays {
    private ArenaWays() {
    }

    public static Map<String, Way> ways() throws Throwable {
        Map<String, Way> ways = new LinkedHashMap<>();
        ways.put("Arena: direct call on ofConfined", Way.ofSegments((arena, n) -> arena.allocate(n)));
        ways.put("Arena: direct call with alignment", Way.ofSegments((arena, n) -> arena.allocate(n, 64)));
        ways.put("Arena: direct call on ofShared", size -> {
            Arena arena = Arena.ofShared();
            MemorySegment s = arena.allocate(size);
            return new Way.Block(s.address(), size, s, arena::close);
        });
        ways.put("Arena: called as SegmentAllocator", Way.ofSegments((arena, n) -> {
            SegmentAllocator allocator = arena;
            return allocator.allocate(ValueLayout.JAVA_BYTE, n);
        }));
        ways.put("Arena: bound method reference", Way.ofSegments((arena, n) -> {
            LongFunction<MemorySegment> ref = arena::allocate;
            return ref.apply(n);
        }));

        MethodHandles.Lookup lookup = MethodHandles.lookup();
        MethodHandle fv = lookup.findVirtual(Arena.class, "allocate", methodType(MemorySegment.class, long.class));
        ways.put("Arena: findVirtual", Way.ofSegments((arena, n) -> (MemorySegment) fv.invokeExact(arena, n)));

        MethodHandle fvAligned = lookup.findVirtual(SegmentAllocator.class, "allocate",
                methodType(MemorySegment.class, long.class, long.class));
        ways.put("Arena: findVirtual on SegmentAllocator", Way.ofSegments((arena, n) ->
                (MemorySegment) fvAligned.invokeExact((SegmentAllocator) arena, n, 8L)));

        // the looked-up handle made into a lambda capturing the arena (fast-reflection code does this)
        MethodHandle lmf = java.lang.invoke.LambdaMetafactory.metafactory(lookup, "apply",
                methodType(LongFunction.class, Arena.class), methodType(Object.class, long.class), fv,
                methodType(MemorySegment.class, long.class)).getTarget();
        ways.put("Arena: findVirtual + LambdaMetafactory.metafactory", Way.ofSegments((arena, n) ->
                (MemorySegment) ((LongFunction<?>) lmf.invoke(arena)).apply(n)));

        // Lookup.bind(arena, ...) cannot work for any program: it looks the method up in the JDK's internal arena class
        ways.put("Arena: findVirtual + bindTo", Way.ofSegments((arena, n) -> (MemorySegment) fv.bindTo(arena).invokeExact(n)));

        // a varargs method: the routed handle must still collect trailing arguments
        MethodHandle from = lookup.findVirtual(Arena.class, "allocateFrom",
                methodType(MemorySegment.class, ValueLayout.OfInt.class, int[].class));
        ways.put("Arena: findVirtual of varargs allocateFrom + invokeWithArguments", Way.ofSegments((arena, n) -> {
            Object[] args = new Object[2 + Math.toIntExact(n / 4)];
            args[0] = arena;
            args[1] = ValueLayout.JAVA_INT;
            java.util.Arrays.fill(args, 2, args.length, 7);
            MemorySegment s = (MemorySegment) from.invokeWithArguments(args);
            if (!from.isVarargsCollector() || s.get(ValueLayout.JAVA_INT, n - 4) != 7) {
                throw new AssertionError("not collected: " + from);
            }
            return s;
        }));

        Method allocate = Arena.class.getMethod("allocate", long.class);
        MethodHandle ur = lookup.unreflect(allocate);
        ways.put("Arena: unreflect", Way.ofSegments((arena, n) -> (MemorySegment) ur.invokeExact((SegmentAllocator) arena, n)));

        ways.put("Arena: Method.invoke", Way.ofSegments((arena, n) -> (MemorySegment) allocate.invoke(arena, n)));
        return ways;
    }
}
