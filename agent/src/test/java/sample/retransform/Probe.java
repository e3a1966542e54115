package sample.retransform;

import java.util.concurrent.atomic.LongAdder;

/** The advice {@link Retransformer} puts in {@link Target}: counts method entries. */
public final class Probe {
    static final LongAdder HITS = new LongAdder();

    private Probe() {
    }

    public static void hit() {
        HITS.increment();
    }
}
