package sample.reach;

import java.nio.ByteBuffer;
import sample.reachapi.Way;
import sun.misc.Unsafe;

/**
 * Never loaded as a class of its own: {@link HiddenWays} defines its bytes as hidden classes, which class-file
 * transformers never see.
 */
public final class HiddenBody {
    private static final Unsafe U = Way.UNSAFE;

    public HiddenBody() {
    }

    public static long allocate(long size) {
        return U.allocateMemory(size);
    }

    public static void free(long address) {
        U.freeMemory(address);
    }

    public static ByteBuffer buffer(int capacity) {
        return ByteBuffer.allocateDirect(capacity);
    }
}
