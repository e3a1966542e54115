package sample.late;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/** Allocates, attaches the agent to itself, allocates again: the class loaded before the attach is retransformed. */
public final class LateMain {
    public static void main(String[] args) throws Exception {
        ByteBuffer before = Alloc.allocate(4096);
        SelfAttach.load(args[0], args[1]);
        ByteBuffer after = Alloc.allocate(4096);
        var pool = io.jvmem.agent.Jvmem.pool("late");
        System.out.println("before-in-pool=" + pool.contains(MemorySegment.ofBuffer(before).address()));
        System.out.println("after-in-pool=" + pool.contains(MemorySegment.ofBuffer(after).address()));
    }
}
