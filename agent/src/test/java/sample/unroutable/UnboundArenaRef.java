package sample.unroutable;

import io.jvmem.agent.Jvmem;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Selected in a JVM of its own: {@code Arena::allocate} with the arena passed at each call, which is not routed. */
public final class UnboundArenaRef {
    interface UnboundAllocate {
        MemorySegment allocate(Arena arena, long size);
    }

    private UnboundArenaRef() {
    }

    public static void main(String[] args) {
        UnboundAllocate unbound = Arena::allocate;
        try (Arena arena = Arena.ofConfined()) {
            System.out.println("in pool: " + Jvmem.pool("p").contains(unbound.allocate(arena, 64).address()));
        }
    }
}
