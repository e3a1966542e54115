package io.jvmem.it;

import org.agrona.UnsafeApi;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.reflect.Field;

/**
 * Memory allocated with {@code sun.misc.Unsafe.allocateMemory} (this class's own call sites, which a route may
 * send to a pool), used through an Agrona {@link UnsafeBuffer}, then grown with Agrona's
 * {@code UnsafeApi.reallocateMemory} and released with {@code UnsafeApi.freeMemory}. Agrona 2.x implements those
 * with {@code jdk.internal.misc.Unsafe} (its {@code UnsafeApi} class is generated with ByteBuddy), not
 * {@code sun.misc.Unsafe}: a perfectly good combination without the agent, since both end in the JDK's
 * malloc/realloc/free.
 *
 * <p>Arguments (optional): {@code blocks} (default 64). Prints {@code MIXED OK ...} and exits 0, or prints
 * {@code MIXED FAIL ...} and exits 1.
 */
public final class AgronaMixedFree {

    public static void main(String[] args) {
        int blocks = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        ProgramExit.withFailure("MIXED", () -> run(blocks));
    }

    static String run(int blocks) throws Exception {
        Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        sun.misc.Unsafe unsafe = (sun.misc.Unsafe) f.get(null);
        long checked = 0;
        for (int b = 0; b < blocks; b++) {
            int size = 64 << (b % 12);
            long address = unsafe.allocateMemory(size);
            UnsafeBuffer buf = new UnsafeBuffer(address, size);
            for (int i = 0; i < size; i++) {
                buf.putByte(i, (byte) (b * 31 + i));
            }
            long grown = UnsafeApi.reallocateMemory(address, 2L * size);
            UnsafeBuffer after = new UnsafeBuffer(grown, 2 * size);
            for (int i = 0; i < size; i++) {
                if (after.getByte(i) != (byte) (b * 31 + i)) {
                    return "block " + b + ": byte " + i + " changed by UnsafeApi.reallocateMemory";
                }
            }
            checked += size;
            UnsafeApi.freeMemory(grown);
        }
        System.out.println("MIXED OK blocks=" + blocks + " checkedBytes=" + checked);
        return null;
    }
}
