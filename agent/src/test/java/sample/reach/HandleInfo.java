package sample.reach;

import static java.lang.invoke.MethodType.methodType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandleInfo;
import java.lang.invoke.MethodHandles;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import sun.misc.Unsafe;

/** What {@code Lookup.revealDirect} says of handles looked up for the intercepted members. */
public final class HandleInfo {
    private HandleInfo() {
    }

    /** Per handle: the member name revealDirect gives, or the exception it threw. */
    public static Map<String, String> revealed() throws Throwable {
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        Map<String, MethodHandle> handles = new LinkedHashMap<>();
        handles.put("allocateDirect", lookup.findStatic(ByteBuffer.class, "allocateDirect", methodType(ByteBuffer.class, int.class)));
        handles.put("allocateMemory", lookup.findVirtual(Unsafe.class, "allocateMemory", methodType(long.class, long.class)));
        handles.put("reallocateMemory", lookup.findVirtual(Unsafe.class, "reallocateMemory", methodType(long.class, long.class, long.class)));
        handles.put("freeMemory", lookup.findVirtual(Unsafe.class, "freeMemory", methodType(void.class, long.class)));
        handles.put("allocate", lookup.findVirtual(Arena.class, "allocate", methodType(MemorySegment.class, long.class)));
        handles.put("allocate aligned", lookup.findVirtual(SegmentAllocator.class, "allocate",
                methodType(MemorySegment.class, long.class, long.class)));
        handles.put("allocateFrom", lookup.findVirtual(Arena.class, "allocateFrom",
                methodType(MemorySegment.class, ValueLayout.OfLong.class, long.class)));
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, MethodHandle> e : handles.entrySet()) {
            try {
                MethodHandleInfo info = lookup.revealDirect(e.getValue());
                out.put(e.getKey(), info.getName());
            } catch (RuntimeException x) {
                out.put(e.getKey(), x.toString());
            }
        }
        return out;
    }
}
