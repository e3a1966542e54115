package sample.issue;

import sun.misc.Unsafe;

/** The selected half of the issue's program: its allocateMemory is routed to the pool. */
public final class Allocate {
    private Allocate() {
    }

    public static long allocateMemory(Unsafe u, long size) {
        return u.allocateMemory(size);
    }
}
