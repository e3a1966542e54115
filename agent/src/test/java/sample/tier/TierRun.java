package sample.tier;

import io.jvmem.agent.Jvmem;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** Allocates 96 MiB of direct buffers through rewritten call sites: more than its pool's initial 16 MiB. */
public final class TierRun {
    public static void main(String[] args) {
        List<ByteBuffer> live = new ArrayList<>();
        for (int i = 0; i < 96; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
            b.putInt(0, i).putInt((1 << 20) - 4, ~i);
            live.add(b);
        }
        for (int i = 0; i < live.size(); i++) {
            if (live.get(i).getInt(0) != i || live.get(i).getInt((1 << 20) - 4) != ~i) {
                throw new AssertionError("buffer " + i + " lost its contents");
            }
        }
        System.out.println("served " + live.size() + " MiB; pool size " + Jvmem.pool("t").size());
    }
}
