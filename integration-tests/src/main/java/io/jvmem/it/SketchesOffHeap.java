package io.jvmem.it;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.function.LongFunction;
import org.apache.datasketches.common.MemorySegmentRequest;
import org.apache.datasketches.common.MemorySegmentRequestExample;
import org.apache.datasketches.hll.HllSketch;
import org.apache.datasketches.hll.TgtHllType;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.kll.KllSketch;
import org.apache.datasketches.quantilescommon.QuantileSearchCriteria;
import org.apache.datasketches.theta.ThetaSketch;
import org.apache.datasketches.theta.UpdatableThetaSketch;

/**
 * Apache DataSketches 9.1 (datasketches-java built for JDK 25, on {@code java.lang.foreign}: a sketch lives in a
 * {@code MemorySegment} it is given; datasketches-memory is no longer used) with its sketches off heap.
 *
 * <ul>
 *   <li>Theta and HLL sketches built directly in segments the program allocates in a confined arena of its own
 *       ({@link #THETA_SITE}, {@link #HLL_SITE}), fed a stream of {@code n} longs with repeats, and compared with
 *       on-heap sketches of the same stream: estimates, retained entries and serialized images equal byte for byte
 *       (both sketches are deterministic functions of the stream).</li>
 *   <li>KLL doubles sketches started in 2 KiB slices of one segment from a shared arena (through a
 *       {@code SegmentAllocator.slicingAllocator}), which they outgrow: the library then asks the
 *       {@code MemorySegmentRequest} it was given for a larger segment and closes the old one. That request is the
 *       library's own {@code MemorySegmentRequestExample}, which allocates each new segment in an
 *       {@code Arena.ofConfined()} of its own and closes that arena when the sketch lets go of the segment. Checked:
 *       n, min and max exactly; the off-heap sketch against a heap copy of its own image (every quantile equal); every
 *       quantile within three times the sketch's normalized rank error of the exact one.</li>
 *   <li>Two KLL sketches whose segments come from requests of the program's own, each over a shared arena closed at
 *       the end: one allocates through a bound method reference ({@code arena::allocate}), one through an unbound
 *       one ({@code Arena::allocate}, applied to its arena), checked as above.</li>
 * </ul>
 *
 * <p>Arguments (all optional): {@code n} (default 200,000), {@code seed} (default 7). Prints {@code SKETCHES OK n=...
 * programSegments=N kllSketches=N kllGrown=N requests=N boundRequests=N unboundRequests=N
 * thetaEstimate=E hllEstimate=E} and exits 0 ({@code requests}:
 * how many segments the library's request handed out, counted by the program's wrapper of it); or
 * {@code SKETCHES FAIL ...} and exit 1.
 */
public final class SketchesOffHeap {
    static final String THETA_SITE = "theta";
    static final String HLL_SITE = "hll";
    static final int KLL_SKETCHES = 8;
    static final int KLL_START_BYTES = 2048;

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 7L;
        ProgramExit.withFailure("SKETCHES", () -> run(n, seed));
    }

    static String run(int n, long seed) {
        long[] keys = new long[n];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            keys[i] = r.nextLong(n / 2);     // about 40% of the stream are repeats
        }
        long distinct = Arrays.stream(keys).distinct().count();
        int programSegments = 0;
        String failure;
        double thetaEstimate;
        double hllEstimate;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment thetaSegment = theta(arena, UpdatableThetaSketch.getMaxUpdateSketchBytes(1 << 14));
            UpdatableThetaSketch offHeap = UpdatableThetaSketch.builder().setNominalEntries(1 << 14).build(thetaSegment);
            programSegments++;
            UpdatableThetaSketch heap = UpdatableThetaSketch.builder().setNominalEntries(1 << 14).build();
            HllSketch hllOff = new HllSketch(14, TgtHllType.HLL_6,
                    hll(arena, HllSketch.getMaxUpdatableSerializationBytes(14, TgtHllType.HLL_6)));
            programSegments++;
            HllSketch hllHeap = new HllSketch(14, TgtHllType.HLL_6);
            for (long k : keys) {
                offHeap.update(k);
                heap.update(k);
                hllOff.update(k);
                hllHeap.update(k);
            }
            if (!offHeap.isOffHeap() || !hllOff.isOffHeap()) {
                return "the sketches are not off heap";
            }
            failure = same("theta estimate", heap.getEstimate(), offHeap.getEstimate());
            if (failure == null && heap.getRetainedEntries() != offHeap.getRetainedEntries()) {
                failure = "theta retained " + offHeap.getRetainedEntries() + " entries, the heap sketch "
                        + heap.getRetainedEntries();
            }
            if (failure == null && !Arrays.equals(heap.compact().toByteArray(), offHeap.compact().toByteArray())) {
                failure = "the theta sketches' compact images differ";
            }
            if (failure == null && Math.abs(offHeap.getEstimate() - distinct) > 0.05 * distinct) {
                failure = "theta estimates " + offHeap.getEstimate() + " for " + distinct + " distinct keys";
            }
            if (failure == null) {
                failure = same("HLL estimate", hllHeap.getEstimate(), hllOff.getEstimate());
            }
            if (failure == null && !Arrays.equals(hllHeap.toCompactByteArray(), hllOff.toCompactByteArray())) {
                failure = "the HLL sketches' compact images differ";
            }
            if (failure == null && Math.abs(hllOff.getEstimate() - distinct) > 0.05 * distinct) {
                failure = "HLL estimates " + hllOff.getEstimate() + " for " + distinct + " distinct keys";
            }
            // a sketch wrapped around the program's segment reads what the off-heap sketch wrote there
            if (failure == null) {
                failure = same("wrapped theta estimate", offHeap.getEstimate(),
                        ThetaSketch.wrap(thetaSegment).getEstimate());
            }
            thetaEstimate = offHeap.getEstimate();
            hllEstimate = hllOff.getEstimate();
        }
        if (failure != null) {
            return failure;
        }
        CountingRequest requests = new CountingRequest();
        int grown = 0;
        try (Arena shared = Arena.ofShared()) {
            SegmentAllocator slices = SegmentAllocator.slicingAllocator(kllBlock(shared, KLL_SKETCHES * KLL_START_BYTES));
            programSegments++;
            for (int s = 0; s < KLL_SKETCHES; s++) {
                MemorySegment start = slices.allocate(KLL_START_BYTES, 8);
                KllDoublesSketch kll = KllDoublesSketch.newDirectInstance(200, start, requests);
                double[] values = new double[n / KLL_SKETCHES * (s + 1) / 2];
                SplittableRandom v = new SplittableRandom(seed + s);
                for (int i = 0; i < values.length; i++) {
                    values[i] = v.nextGaussian() * (s + 1) + s;
                    kll.update(values[i]);
                }
                failure = checkKll(kll, values);
                if (failure != null) {
                    return "KLL sketch " + s + ": " + failure;
                }
                if (!kll.isSameResource(start)) {
                    grown++;
                }
                kll.reset();   // back to its smallest form: a segment the library requested is closed again
            }
        } finally {
            requests.cleanup();
        }
        if (grown != KLL_SKETCHES || requests.count == 0) {
            return "the KLL sketches did not outgrow their slices (" + grown + " grew, " + requests.count + " requests)";
        }
        // Two requests of the program's own, as an application might write them: a bound and an unbound method
        // reference to Arena.allocate.
        int[] ownRequests = new int[2];
        MemorySegmentRequestBase[] own = {new BoundRequest(), new UnboundRequest()};
        for (int i = 0; i < own.length; i++) {
            try (MemorySegmentRequestBase req = own[i]) {
                KllDoublesSketch kll = KllDoublesSketch.newDirectInstance(200, req.request(KLL_START_BYTES), req);
                double[] values = new double[n / 4];
                SplittableRandom v = new SplittableRandom(seed - i);
                for (int k = 0; k < values.length; k++) {
                    values[k] = v.nextDouble() * 1000;
                    kll.update(values[k]);
                }
                failure = checkKll(kll, values);
                if (failure != null) {
                    return "KLL sketch on " + req.getClass().getSimpleName() + ": " + failure;
                }
                ownRequests[i] = req.count;
            }
        }
        System.out.println("SKETCHES OK n=" + n + " distinct=" + distinct + " programSegments=" + programSegments
                + " kllSketches=" + KLL_SKETCHES + " kllGrown=" + grown + " requests=" + requests.count
                + " boundRequests=" + ownRequests[0] + " unboundRequests=" + ownRequests[1]
                + " thetaEstimate=" + Math.round(thetaEstimate) + " hllEstimate=" + Math.round(hllEstimate));
        return null;
    }

    // One method per segment the program allocates, so the report names each place.
    private static MemorySegment theta(Arena arena, long bytes) {
        return arena.allocate(bytes, 8);
    }

    private static MemorySegment hll(Arena arena, long bytes) {
        return arena.allocate(bytes, 8);
    }

    private static MemorySegment kllBlock(Arena arena, long bytes) {
        return arena.allocate(bytes, 8);
    }

    private static String same(String what, double want, double got) {
        return Double.compare(want, got) == 0 ? null : what + " " + got + ", the heap sketch's " + want;
    }

    private static String checkKll(KllDoublesSketch kll, double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        if (kll.getN() != values.length) {
            return "n=" + kll.getN() + " for " + values.length + " values";
        }
        if (kll.getMinItem() != sorted[0] || kll.getMaxItem() != sorted[sorted.length - 1]) {
            return "min/max " + kll.getMinItem() + "/" + kll.getMaxItem() + ", exactly " + sorted[0] + "/"
                    + sorted[sorted.length - 1];
        }
        if (!kll.isOffHeap()) {
            return "not off heap";
        }
        KllDoublesSketch copy = KllDoublesSketch.heapify(MemorySegment.ofArray(kll.toByteArray()));
        double bound = 3 * KllSketch.getNormalizedRankError(200, false);
        for (int i = 1; i < 100; i++) {
            double rank = i / 100.0;
            double q = kll.getQuantile(rank, QuantileSearchCriteria.INCLUSIVE);
            if (Double.compare(q, copy.getQuantile(rank, QuantileSearchCriteria.INCLUSIVE)) != 0) {
                return "quantile " + rank + " differs from the heap copy of the sketch's own image";
            }
            double trueRank = (double) upperBound(sorted, q) / sorted.length;
            if (Math.abs(trueRank - rank) > bound) {
                return "quantile " + rank + " = " + q + " has true rank " + trueRank;
            }
        }
        return null;
    }

    private static int upperBound(double[] sorted, double q) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] <= q) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** A request of the program's: segments of one shared arena, all freed when it closes. */
    abstract static class MemorySegmentRequestBase implements MemorySegmentRequest, AutoCloseable {
        final Arena arena = Arena.ofShared();
        int count;

        @Override
        public void close() {
            arena.close();
        }
    }

    /** Allocates through a bound method reference, {@code arena::allocate}: routed like a call. */
    static final class BoundRequest extends MemorySegmentRequestBase {
        private final LongFunction<MemorySegment> allocate = arena::allocate;

        @Override
        public MemorySegment request(long bytes) {
            count++;
            return allocate.apply(bytes);
        }
    }

    /**
     * Allocates through an unbound method reference, {@code Arena::allocate}: the agent cannot tell which arena it
     * will be applied to when it rewrites the reference, so it leaves it as it is and reports it.
     */
    static final class UnboundRequest extends MemorySegmentRequestBase {
        private static final BiFunction<Arena, Long, MemorySegment> ALLOCATE = Arena::allocate;

        @Override
        public MemorySegment request(long bytes) {
            count++;
            return ALLOCATE.apply(arena, bytes);
        }
    }

    /** The library's own request (confined arena per segment), counting what it hands out. */
    static final class CountingRequest implements MemorySegmentRequest {
        private final MemorySegmentRequestExample library = new MemorySegmentRequestExample();
        int count;

        @Override
        public MemorySegment request(long bytes) {
            count++;
            return library.request(bytes);
        }

        @Override
        public void requestClose(MemorySegment segment) {
            library.requestClose(segment);
        }

        void cleanup() {
            library.cleanup();
        }
    }
}
