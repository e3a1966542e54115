package io.jvmem.allocator;

/**
 * Size classes, jemalloc style: a 16-byte quantum and four classes per doubling, so internal fragmentation stays
 * under 20% (25% at the first step of each group).
 *
 * <pre>
 *   group    delta   classes
 *   [0,64]     16    16 32 48 64
 *   (64,128]   16    80 96 112 128
 *   (128,256]  32    160 192 224 256
 *   (2^g,2^g+1] 2^(g-2)   2^g + k * 2^(g-2), k = 1..4
 * </pre>
 *
 * <ul>
 *   <li><b>small</b> classes (16 B .. 14 KiB) live in slabs: runs of a few pages cut into equal regions, with one
 *       occupancy bit per region;</li>
 *   <li><b>page-run</b> classes (16 KiB .. {@link #MAX_RUN_CLASS}) are whole-page runs of the class size;</li>
 *   <li>anything larger is a <b>huge</b> extent rounded up to whole pages only (no class, so a 100 MiB request wastes
 *       less than a page).</li>
 * </ul>
 * Sizes up to {@link #LOOKUP_MAX} go through a lookup table; larger ones are computed from the bit pattern. The tests
 * check both against a slow oracle that lists every class.
 */
final class SizeClasses {
    static final int LG_QUANTUM = 4;
    static final int QUANTUM = 1 << LG_QUANTUM;
    static final int LG_PAGE = 12;
    static final int PAGE = 1 << LG_PAGE;
    static final int LG_NGROUP = 2;

    static final int SMALL_MAX = 14336;
    static final long MAX_RUN_CLASS = 4L << 20;
    static final int LOOKUP_MAX = 4096;

    /** Number of classes up to and including MAX_RUN_CLASS. */
    static final int NCLASSES;
    /** Number of small classes (all below SMALL_MAX inclusive). */
    static final int NSMALL;
    private static final long[] SIZES;
    private static final byte[] LOOKUP = new byte[(LOOKUP_MAX >> LG_QUANTUM) + 1];
    private static final int[] SLAB_PAGES;
    private static final int[] SLAB_REGIONS;

    static {
        int n = 0;
        long[] tmp = new long[256];
        for (long s = QUANTUM; s <= 4 * QUANTUM; s += QUANTUM) {
            tmp[n++] = s;
        }
        for (int lgGrp = LG_QUANTUM + LG_NGROUP; ; lgGrp++) {
            long base = 1L << lgGrp;
            long delta = base >> LG_NGROUP;
            boolean done = false;
            for (int k = 1; k <= 1 << LG_NGROUP; k++) {
                long s = base + k * delta;
                if (s > MAX_RUN_CLASS) {
                    done = true;
                    break;
                }
                tmp[n++] = s;
            }
            if (done || tmp[n - 1] == MAX_RUN_CLASS) {
                break;
            }
        }
        NCLASSES = n;
        SIZES = java.util.Arrays.copyOf(tmp, n);
        int small = 0;
        while (SIZES[small] <= SMALL_MAX) {
            small++;
        }
        NSMALL = small;
        int c = 0;
        for (int i = 0; i < LOOKUP.length; i++) {
            long size = Math.max(1, (long) i << LG_QUANTUM);
            while (SIZES[c] < size) {
                c++;
            }
            LOOKUP[i] = (byte) c;
        }
        SLAB_PAGES = new int[NSMALL];
        SLAB_REGIONS = new int[NSMALL];
        for (int i = 0; i < NSMALL; i++) {
            SLAB_PAGES[i] = slabPagesFor(SIZES[i]);
            SLAB_REGIONS[i] = (int) ((long) SLAB_PAGES[i] * PAGE / SIZES[i]);
        }
    }

    private SizeClasses() {
    }

    /** Fewest pages (1..16) whose tail waste is at most 1/64 of the slab; else the least wasteful. */
    private static int slabPagesFor(long size) {
        int best = 1;
        double bestWaste = 1;
        for (int p = 1; p <= 16; p++) {
            long bytes = (long) p * PAGE;
            if (bytes < size) {
                continue;
            }
            double waste = (double) (bytes % size) / bytes;
            if (waste <= 1.0 / 64) {
                return p;
            }
            if (waste < bestWaste) {
                bestWaste = waste;
                best = p;
            }
        }
        return best;
    }

    /**
     * Class index for a request of {@code size} bytes (0 is served as 1), or -1 if larger than MAX_RUN_CLASS.
     */
    static int index(long size) {
        if (size <= LOOKUP_MAX) {
            return LOOKUP[(int) ((size + QUANTUM - 1) >>> LG_QUANTUM)];
        }
        return computeIndex(size);
    }

    static int computeIndex(long size) {
        if (size > MAX_RUN_CLASS) {
            return -1;
        }
        if (size <= 4 * QUANTUM) {
            return (int) (Math.max(size, 1) - 1) >>> LG_QUANTUM;
        }
        int x = 63 - Long.numberOfLeadingZeros((size << 1) - 1); // ceil(log2(size))
        int shift = x - (LG_NGROUP + LG_QUANTUM);
        int grp = shift << LG_NGROUP;
        int lgDelta = x - LG_NGROUP - 1;
        long mod = ((size - 1) >>> lgDelta) & ((1 << LG_NGROUP) - 1);
        return (int) (grp + mod);
    }

    static long size(int index) {
        return SIZES[index];
    }

    static boolean isSmall(int index) {
        return index < NSMALL;
    }

    static int slabPages(int index) {
        return SLAB_PAGES[index];
    }

    static int slabRegions(int index) {
        return SLAB_REGIONS[index];
    }

    /** Bytes actually handed out for a request of {@code size}: its class size, or whole pages for huge requests. */
    static long usable(long size) {
        int c = index(size);
        return c >= 0 ? SIZES[c] : pageCeil(size);
    }

    static long pageCeil(long bytes) {
        return (bytes + PAGE - 1) & -PAGE;
    }
}
