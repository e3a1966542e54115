package io.jvmem.agent;

import java.util.Locale;

/** Byte counts for people: {@code 640 KiB}, {@code 1.5 GiB} (binary units, one decimal below 10). */
final class Bytes {
    private Bytes() {
    }

    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " bytes";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return (v < 10 && v != Math.floor(v) ? String.format(Locale.ROOT, "%.1f", v) : Long.toString(Math.round(v))) + " " + units[u];
    }
}
