package sample.reachapi;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import sun.misc.Unsafe;

/**
 * One way a program reaches off-heap memory. The ways are written once, in {@code sample.reach} (which the
 * integration tests' config selects), and run there and as a renamed copy that no route selects; this package is
 * selected by neither, and names no allocation member, so the agent leaves it byte-identical.
 */
public interface Way {
    /** Memory of {@code size} bytes reached this way; it stays live until {@link Block#release()}. */
    Block allocate(long size) throws Throwable;

    /**
     * Frees the block at {@code address} this way (Unsafe, libc). Ways whose memory goes back by closing its arena or
     * by its buffer's cleaner have no free of their own: UnsupportedOperationException.
     */
    default void free(long address) throws Throwable {
        throw new UnsupportedOperationException("released through its block, not by address");
    }

    /** Whether {@link #free} exists. */
    default boolean frees() {
        return false;
    }

    /** Allocation by address ({@code long}). */
    interface Alloc {
        long allocate(long size) throws Throwable;
    }

    /** Free by address. */
    interface Free {
        void free(long address) throws Throwable;
    }

    /** A buffer allocation. */
    interface Buffers {
        ByteBuffer allocate(int capacity) throws Throwable;
    }

    /** A segment allocation from {@code arena}. */
    interface Segments {
        MemorySegment allocate(Arena arena, long size) throws Throwable;
    }

    /** A way that allocates and frees by address. */
    static Way of(Alloc alloc, Free free) {
        return new Way() {
            @Override
            public Block allocate(long size) throws Throwable {
                long a = alloc.allocate(size);
                return new Block(a, size, null, () -> free.free(a));
            }

            @Override
            public void free(long address) throws Throwable {
                free.free(address);
            }

            @Override
            public boolean frees() {
                return true;
            }
        };
    }

    /** A way that makes direct buffers; the JDK's cleaner ({@code invokeCleaner}) releases them. */
    static Way ofBuffers(Buffers buffers) {
        return size -> {
            ByteBuffer b = buffers.allocate(Math.toIntExact(size));
            return new Block(MemorySegment.ofBuffer(b).address(), size, b, () -> UNSAFE.invokeCleaner(b));
        };
    }

    /** A way that allocates segments from a fresh confined arena; closing the arena releases them. */
    static Way ofSegments(Segments segments) {
        return size -> {
            Arena arena = Arena.ofConfined();
            MemorySegment s = segments.allocate(arena, size);
            return new Block(s.address(), size, s, arena::close);
        };
    }

    Unsafe UNSAFE = Block.unsafe();

    /** Memory reached through a way: its address, and how it goes back. */
    record Block(long address, long size, Object memory, Release giveBack) {
        public void release() throws Throwable {
            giveBack.run();
        }

        static Unsafe unsafe() {
            try {
                Field f = Unsafe.class.getDeclaredField("theUnsafe");
                f.setAccessible(true);
                return (Unsafe) f.get(null);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }

    /** How a block goes back: free, close its arena, or clean its buffer. */
    interface Release {
        void run() throws Throwable;
    }
}
