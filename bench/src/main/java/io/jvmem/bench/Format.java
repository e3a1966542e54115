package io.jvmem.bench;

import java.util.Locale;

/** How the results page writes numbers: scores with their error, ratios with the error propagated, byte sizes. */
final class Format {
    private Format() {
    }

    /** Series {@code s}, group {@code g} of a chart from a result row (NaN where it is missing). */
    static void fill(double[][] v, double[][] e, int s, int g, Results r) {
        v[s][g] = r == null ? Double.NaN : r.score();
        e[s][g] = r == null ? Double.NaN : r.error();
    }

    static String fmt(Results r) {
        return r == null ? "–" : r.formatted();
    }

    /** a / b with the error propagated from both relative errors (when JMH gave them). */
    static String ratio(Results a, Results b) {
        if (a == null || b == null) {
            return "–";
        }
        double r = a.score() / b.score();
        double e = r * Math.hypot(a.error() / a.score(), b.error() / b.score());
        return Double.isNaN(e) ? String.format(Locale.ROOT, "%.2f×", r) : String.format(Locale.ROOT, "%.2f× ± %.2f", r, e);
    }

    /** a − b in ns with the error of a difference (when JMH gave both). */
    static String difference(Results a, Results b) {
        if (a == null || b == null) {
            return "–";
        }
        double d = a.score() - b.score();
        double e = Math.hypot(a.error(), b.error());
        return Double.isNaN(e) ? String.format(Locale.ROOT, "%+.1f", d) : String.format(Locale.ROOT, "%+.1f ± %.1f", d, e);
    }

    static String gb(double v, double e) {
        if (Double.isNaN(v)) {
            return "–";
        }
        return Double.isNaN(e) ? String.format(Locale.ROOT, "%.2f", v) : String.format(Locale.ROOT, "%.2f ± %.2f", v, e);
    }

    static String human(String bytes) {
        long b = Long.parseLong(bytes);
        if (b >= 1 << 20 && b % (1 << 20) == 0) {
            return (b >> 20) + " MiB";
        }
        if (b >= 1024 && b % 1024 == 0) {
            return (b >> 10) + " KiB";
        }
        return b + " B";
    }
}
