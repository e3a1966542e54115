package sample.reach;

import static java.lang.invoke.MethodType.methodType;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.nio.ByteBuffer;
import java.util.Map;
import sample.reachapi.Way;

/**
 * A direct buffer made as Netty 4.2 makes them on JDK 25 without Unsafe (io.netty.util.internal.CleanerJava25): a
 * handle {@code (int) -> holder} composed from {@code Arena.ofShared}, {@code Arena.allocate(long)} found by name,
 * {@code MemorySegment.asByteBuffer} and {@code address}, with explicitCastArguments, filterArguments,
 * permuteArguments, insertArguments, collectArguments and foldArguments, called with invokeExact; the buffer is
 * freed by closing its arena.
 */
public final class NettyWays {
    /** What the composed handle returns: the arena to close, the buffer and its address. */
    static final class Holder {
        final AutoCloseable closeable;
        final ByteBuffer buffer;
        final long address;

        Holder(AutoCloseable closeable, ByteBuffer buffer, long address) {
            this.closeable = closeable;
            this.buffer = buffer;
            this.address = address;
        }
    }

    private static final MethodHandle ALLOCATOR = allocator();

    private NettyWays() {
    }

    private static MethodHandle allocator() {
        try {
            Class<?> arena = Class.forName("java.lang.foreign.Arena");
            Class<?> segment = Class.forName("java.lang.foreign.MemorySegment");
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            MethodHandle ofShared = lookup.findStatic(arena, "ofShared", methodType(arena));
            MethodHandle allocate = lookup.findVirtual(arena, "allocate", methodType(segment, long.class));
            MethodHandle asByteBuffer = lookup.findVirtual(segment, "asByteBuffer", methodType(ByteBuffer.class));
            MethodHandle address = lookup.findVirtual(segment, "address", methodType(long.class));
            MethodHandle ctor = lookup.findConstructor(Holder.class,
                    methodType(void.class, AutoCloseable.class, ByteBuffer.class, long.class));
            // (Arena, int) -> MemorySegment, so that the caller's int passes invokeExact
            MethodHandle allocateInt = MethodHandles.explicitCastArguments(allocate, methodType(segment, arena, int.class));
            // (Arena, MemorySegment, MemorySegment) -> Holder: buffer and address from a segment each
            MethodHandle fromTwo = MethodHandles.explicitCastArguments(
                    MethodHandles.filterArguments(ctor, 1, asByteBuffer, address), methodType(Holder.class, arena, segment, segment));
            // both from the same segment; the third argument is then ignored and bound to null
            MethodHandle fromOneAndIgnored = MethodHandles.permuteArguments(fromTwo,
                    methodType(Holder.class, arena, segment, segment), 0, 1, 1);
            MethodHandle fromOne = MethodHandles.insertArguments(fromOneAndIgnored, 2, new Object[] {null});
            // (Arena, Arena, int) -> Holder: the segment allocated from the second arena
            MethodHandle fromArenas = MethodHandles.collectArguments(fromOne, 1, allocateInt);
            // one arena for both, the second ignored and bound to null
            MethodHandle fromArenaIgnored = MethodHandles.permuteArguments(fromArenas,
                    methodType(Holder.class, arena, arena, int.class), 0, 0, 2);
            MethodHandle fromArena = MethodHandles.insertArguments(fromArenaIgnored, 1, new Object[] {null});
            // (int) -> Holder: a new shared arena per buffer
            return MethodHandles.foldArguments(fromArena, ofShared);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    public static Map<String, Way> ways() {
        return Map.of("Arena: composed as Netty 4.2 composes it", size -> {
            Holder h = (Holder) ALLOCATOR.invokeExact(Math.toIntExact(size));
            if (h.buffer.capacity() != size || !h.buffer.isDirect()) {
                throw new AssertionError("not a direct buffer of " + size + " bytes: " + h.buffer);
            }
            return new Way.Block(h.address, size, h, h.closeable::close);
        });
    }
}
