package io.jvmem.allocator;

import java.util.BitSet;
import java.util.List;
import java.util.Objects;

/**
 * Where a pool's pages are placed among NUMA nodes, in numactl's words: {@code bind:N[,M...]} (only these nodes),
 * {@code preferred:N} (this node first, others when it is full) or {@code interleave:N,M...} (round-robin over these
 * nodes, page by page). Node lists take numbers and ranges ({@code 0-3}). A CXL memory expander usually appears as a
 * node with memory and no CPUs; binding a pool to it puts the pool on CXL memory.
 *
 * <p>Applied with mbind(2) to the pool's mapping before any of its pages is reserved or touched, so every page of
 * the pool lands where the policy says, on tmpfs, memfd and hugetlbfs alike. Immutable and thread-safe.
 */
public final class NumaPolicy {
    /** The policy modes of mbind(2) and set_mempolicy(2), with the kernel's (and numactl's) MPOL_* numbers. */
    public enum Mode {
        PREFERRED(1, "preferred"), BIND(2, "bind"), INTERLEAVE(3, "interleave");

        /** The MPOL_* value passed to mbind(2). */
        public final int mpol;
        final String word;

        Mode(int mpol, String word) {
            this.mpol = mpol;
            this.word = word;
        }
    }

    private final Mode mode;
    private final BitSet nodes;

    private NumaPolicy(Mode mode, BitSet nodes) {
        this.mode = mode;
        this.nodes = nodes;
    }

    /** Pages only on {@code nodes}. Throws IllegalArgumentException for an empty list or a negative node. */
    public static NumaPolicy bind(int... nodes) {
        return of(Mode.BIND, nodes);
    }

    /** Pages on {@code node} while it has room. */
    public static NumaPolicy preferred(int node) {
        return of(Mode.PREFERRED, node);
    }

    /** Pages spread page by page over {@code nodes}. */
    public static NumaPolicy interleave(int... nodes) {
        return of(Mode.INTERLEAVE, nodes);
    }

    public static NumaPolicy of(Mode mode, int... nodes) {
        Objects.requireNonNull(mode, "mode");
        BitSet set = new BitSet();
        for (int n : nodes) {
            if (n < 0 || n >= 1024) {
                throw new IllegalArgumentException("NUMA node " + n + " is out of range [0, 1024)");
            }
            set.set(n);
        }
        if (set.isEmpty()) {
            throw new IllegalArgumentException(mode.word + " needs at least one NUMA node");
        }
        if (mode == Mode.PREFERRED && set.cardinality() != 1) {
            throw new IllegalArgumentException("preferred takes exactly one NUMA node, not " + set);
        }
        return new NumaPolicy(mode, set);
    }

    /**
     * Parses numactl's form: {@code bind:0,2}, {@code preferred:1}, {@code interleave:0-3}. Throws
     * IllegalArgumentException with the reason for anything else.
     */
    public static NumaPolicy parse(String text) {
        int colon = text.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("expected bind:N[,M...], preferred:N or interleave:N,M..., not \"" + text + "\"");
        }
        String word = text.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT); // as the config's other words
        Mode mode = null;
        for (Mode m : Mode.values()) {
            if (m.word.equals(word)) {
                mode = m;
            }
        }
        if (mode == null) {
            throw new IllegalArgumentException("unknown NUMA policy \"" + word + "\" (known: bind, preferred, interleave)");
        }
        return of(mode, parseNodes(text.substring(colon + 1)));
    }

    /** A node list as numactl and sysfs write it: {@code 0,2-3}. Empty text gives no node. */
    static int[] parseNodes(String list) {
        BitSet set = new BitSet();
        for (String part : list.trim().split(",")) {
            String p = part.trim();
            if (p.isEmpty()) {
                continue;
            }
            try {
                int dash = p.indexOf('-');
                int lo = Integer.parseInt((dash < 0 ? p : p.substring(0, dash)).trim());
                int hi = dash < 0 ? lo : Integer.parseInt(p.substring(dash + 1).trim());
                if (lo < 0 || hi < lo || hi >= 1024) {
                    throw new IllegalArgumentException("bad NUMA node range \"" + p + "\"");
                }
                set.set(lo, hi + 1);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad NUMA node \"" + p + "\" (expected a number or a range like 0-3)");
            }
        }
        return set.stream().toArray();
    }

    public Mode mode() {
        return mode;
    }

    /** The nodes, ascending. */
    public List<Integer> nodes() {
        return nodes.stream().boxed().toList();
    }

    /** The nodemask mbind(2) takes: bit n of word n / 64 set for node n (unsigned longs, as libnuma's bitmask). */
    long[] nodemask() {
        long[] words = new long[(nodes.length() + 63) / 64];
        for (int n = nodes.nextSetBit(0); n >= 0; n = nodes.nextSetBit(n + 1)) {
            words[n >>> 6] |= 1L << (n & 63);
        }
        return words;
    }

    /**
     * The maxnode argument of mbind(2) for {@link #nodemask()}: the kernel reads maxnode - 1 bits, so this is the
     * mask's bit count plus one, as libnuma passes it.
     */
    long maxnode() {
        return nodemask().length * 64L + 1;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NumaPolicy p && p.mode == mode && p.nodes.equals(nodes);
    }

    @Override
    public int hashCode() {
        return mode.hashCode() * 31 + nodes.hashCode();
    }

    /** numactl's form, which {@link #parse} reads back. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(mode.word).append(':');
        int[] n = nodes.stream().toArray();
        for (int i = 0; i < n.length; i++) {
            b.append(i == 0 ? "" : ",").append(n[i]);
        }
        return b.toString();
    }
}
