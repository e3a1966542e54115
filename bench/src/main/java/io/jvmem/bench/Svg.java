package io.jvmem.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Grouped bar charts as standalone SVG (no scripts, no external fonts), so they render as images on a repository
 * page. Missing values (NaN) leave a gap; error bars are drawn when the error is known.
 */
final class Svg {
    private static final String[] COLORS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"};

    private Svg() {
    }

    /**
     * @param values [series][group]
     * @param errors [series][group], may be null or hold NaN
     */
    static void groupedBars(Path file, String title, String yLabel, List<String> groups, List<String> series,
                            double[][] values, double[][] errors, boolean log) throws IOException {
        int w = 760;
        int h = 400;
        int left = 80;
        int right = 20;
        int top = 50;
        int bottom = 90;
        double plotW = w - left - right;
        double plotH = h - top - bottom;
        double max = 0;
        double min = Double.MAX_VALUE;
        for (int s = 0; s < values.length; s++) {
            for (int g = 0; g < values[s].length; g++) {
                double v = values[s][g];
                if (!Double.isNaN(v) && v > 0) {
                    double e = errors != null && !Double.isNaN(errors[s][g]) ? errors[s][g] : 0;
                    max = Math.max(max, v + e);
                    min = Math.min(min, v);
                }
            }
        }
        if (max == 0) {
            max = 1;
            min = 1;
        }
        double lo;
        double hi;
        if (log) {
            lo = Math.floor(Math.log10(min));
            hi = Math.ceil(Math.log10(max));
            if (hi <= lo) {
                hi = lo + 1;
            }
        } else {
            lo = 0;
            hi = niceCeil(max);
        }
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                + "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">%n", w, h, w, h));
        b.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", w, h));
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\">%s</text>%n", left, esc(title)));
        b.append(String.format(Locale.ROOT, "<text transform=\"translate(18,%.1f) rotate(-90)\" text-anchor=\"middle\">%s</text>%n",
                top + plotH / 2, esc(yLabel + (log ? " (log scale)" : ""))));
        // grid and y ticks
        if (log) {
            for (int e = (int) lo; e <= (int) hi; e++) {
                double y = top + plotH - (e - lo) / (hi - lo) * plotH;
                gridLine(b, left, w - right, y, tick(Math.pow(10, e)));
            }
        } else {
            for (int i = 0; i <= 5; i++) {
                double v = hi * i / 5;
                double y = top + plotH - v / hi * plotH;
                gridLine(b, left, w - right, y, tick(v));
            }
        }
        int nGroups = groups.size();
        int nSeries = series.size();
        double groupW = plotW / nGroups;
        double barW = groupW * 0.8 / nSeries;
        for (int g = 0; g < nGroups; g++) {
            double gx = left + g * groupW;
            b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>%n",
                    gx + groupW / 2, top + plotH + 18, esc(groups.get(g))));
            for (int s = 0; s < nSeries; s++) {
                double v = values[s][g];
                if (Double.isNaN(v) || v <= 0) {
                    continue;
                }
                double x = gx + groupW * 0.1 + s * barW;
                double y = scale(v, lo, hi, log, top, plotH);
                b.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s %s: %s</title></rect>%n",
                        x, y, barW - 1, top + plotH - y, COLORS[s % COLORS.length], esc(series.get(s)), esc(groups.get(g)), tick(v)));
                double e = errors != null ? errors[s][g] : Double.NaN;
                if (!Double.isNaN(e) && e > 0) {
                    double y1 = scale(v + e, lo, hi, log, top, plotH);
                    double y0 = scale(Math.max(v - e, log ? Math.pow(10, lo) : 0), lo, hi, log, top, plotH);
                    double cx = x + (barW - 1) / 2;
                    b.append(String.format(Locale.ROOT, "<path d=\"M%.1f %.1fV%.1fM%.1f %.1fH%.1fM%.1f %.1fH%.1f\" stroke=\"black\" stroke-width=\"1\"/>%n",
                            cx, y0, y1, cx - 3, y1, cx + 3, cx - 3, y0, cx + 3));
                }
            }
        }
        b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"black\"/>%n", left, top + plotH, w - right, top + plotH));
        // legend
        double lx = left;
        double ly = h - 50;
        for (int s = 0; s < nSeries; s++) {
            double itemW = 26 + 7 * series.get(s).length();
            if (lx + itemW > w - right && lx > left) {
                lx = left;
                ly += 20;
            }
            b.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                    + "<text x=\"%.1f\" y=\"%.1f\">%s</text>%n", lx, ly, COLORS[s % COLORS.length], lx + 16, ly + 10, esc(series.get(s))));
            lx += itemW;
        }
        b.append("</svg>\n");
        Files.createDirectories(file.getParent());
        Files.writeString(file, b.toString());
    }

    private static double scale(double v, double lo, double hi, boolean log, double top, double plotH) {
        double f = log ? (Math.log10(v) - lo) / (hi - lo) : v / hi;
        f = Math.max(0, Math.min(1, f));
        return top + plotH - f * plotH;
    }

    private static void gridLine(StringBuilder b, int x0, int x1, double y, String label) {
        b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", x0, y, x1, y, x0 - 6, y + 4, label));
    }

    static double niceCeil(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }

    static String tick(double v) {
        if (v >= 1e6) {
            return String.format(Locale.ROOT, "%.0fM", v / 1e6);
        }
        if (v >= 1e4) {
            return String.format(Locale.ROOT, "%.0fk", v / 1e3);
        }
        if (v >= 100 || v == Math.rint(v)) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (v >= 1) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2g", v);
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
