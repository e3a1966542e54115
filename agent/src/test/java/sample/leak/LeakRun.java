package sample.leak;

import example.kv.KvStore;
import io.jvmem.agent.Jvmem;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * One run of the leak-bound test: keeps Y = 1 MiB of data through the root (written on the first run only), and
 * allocates X = 8 MiB through rewritten call sites, half dropped and half still referenced at exit.
 */
public final class LeakRun {
    static final List<ByteBuffer> LIVE = new ArrayList<>();

    public static void main(String[] args) {
        KvStore kv = new KvStore(Jvmem.ctoPool("kv"));
        if (kv.get("blob") == null) {
            kv.put("blob", "x".repeat(1 << 20));
        }
        for (int i = 0; i < 64; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(128 * 1024);
            if (i % 2 == 0) {
                LIVE.add(b);
            }
        }
        System.out.println("blob " + kv.get("blob").length());
    }
}
