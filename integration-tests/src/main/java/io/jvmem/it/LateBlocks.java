package io.jvmem.it;

import java.nio.ByteBuffer;

/**
 * {@link LateAttach}'s allocating class: loaded and used before the attach, so the agent must retransform it.
 * {@link #filledAfterAttach} runs only after the attach (its coverage, under JaCoCo, shows whether JaCoCo's probes
 * survived the retransformation).
 */
final class LateBlocks {
    private LateBlocks() {
    }

    /** A direct buffer of 4 KiB..68 KiB (by {@code n}), filled from a pattern seeded with {@code n}. */
    static ByteBuffer filled(int n) {
        ByteBuffer b = ByteBuffer.allocateDirect(size(n));
        return fill(b, n);
    }

    /** The same as {@link #filled}, a call site of its own. */
    static ByteBuffer filledAfterAttach(int n) {
        ByteBuffer b = ByteBuffer.allocateDirect(size(n));
        if (b.capacity() != size(n)) {
            throw new IllegalStateException("capacity " + b.capacity() + " for " + size(n));
        }
        return fill(b, n);
    }

    private static int size(int n) {
        return 4096 + (n * 7919 % 16) * 4096 + n % 13;
    }

    private static ByteBuffer fill(ByteBuffer b, int n) {
        long x = seed(n);
        for (int i = 0; i < b.capacity(); i++) {
            x = next(x);
            b.put(i, (byte) x);
        }
        return b;
    }

    /** Null if {@code b} holds buffer {@code n}'s pattern, else where it differs. */
    static String check(ByteBuffer b, int n) {
        if (b.capacity() != size(n)) {
            return "buffer " + n + " has " + b.capacity() + " bytes, not " + size(n);
        }
        long x = seed(n);
        for (int i = 0; i < b.capacity(); i++) {
            x = next(x);
            if (b.get(i) != (byte) x) {
                return "buffer " + n + " differs at byte " + i;
            }
        }
        return null;
    }

    private static long seed(int n) {
        return 0x9E3779B97F4A7C15L * (n + 1);
    }

    private static long next(long x) { // xorshift64
        x ^= x << 13;
        x ^= x >>> 7;
        return x ^ (x << 17);
    }
}
