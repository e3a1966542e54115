package io.jvmem.agent;

import io.jvmem.allocator.CtoPool;
import java.nio.file.Path;

/** Creates a close-to-open pool and dies without closing it, as a crashed program would. */
public final class DirtyPoolMaker {
    public static void main(String[] args) {
        CtoPool.create(Path.of(args[0]), args[1], 16L << 20);
        Runtime.getRuntime().halt(0);
    }
}
