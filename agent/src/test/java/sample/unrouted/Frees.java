package sample.unrouted;

import java.nio.ByteBuffer;
import sun.misc.Unsafe;

/** No route selects this class: its allocations stay with the JDK, its frees and reallocs are pool-aware. */
public final class Frees {
    public static void free(Unsafe u, long address) {
        u.freeMemory(address);
    }

    public static long reallocate(Unsafe u, long address, long n) {
        return u.reallocateMemory(address, n);
    }

    public static long allocateMemory(Unsafe u, long n) {
        return u.allocateMemory(n);
    }

    public static ByteBuffer allocate(int n) {
        return ByteBuffer.allocateDirect(n);
    }
}
