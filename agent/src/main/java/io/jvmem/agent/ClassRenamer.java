package io.jvmem.agent;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Renames classes inside a class file by rewriting its CONSTANT_Utf8 entries (class names and descriptors all live
 * there). Enough for the bridge classes, which are ours and ASCII-named, and far cheaper at JVM start-up than a
 * general remapper: one pass over the constant pool, the rest of the file copied as is.
 */
final class ClassRenamer {
    private ClassRenamer() {
    }

    static byte[] rename(byte[] b, Map<String, String> names) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(b.length + 256);
        out.write(b, 0, 10); // magic, version, constant_pool_count
        int count = u2(b, 8);
        int p = 10;
        for (int i = 1; i < count; i++) {
            int tag = b[p] & 0xff;
            int size;
            switch (tag) {
                case 1 -> { // Utf8
                    int len = u2(b, p + 1);
                    String s = new String(b, p + 3, len, StandardCharsets.ISO_8859_1);
                    String r = s;
                    for (Map.Entry<String, String> e : names.entrySet()) {
                        r = r.replace(e.getKey(), e.getValue());
                    }
                    if (r.equals(s)) {
                        out.write(b, p, 3 + len);
                    } else {
                        byte[] nb = r.getBytes(StandardCharsets.ISO_8859_1);
                        out.write(1);
                        out.write(nb.length >>> 8);
                        out.write(nb.length);
                        out.write(nb, 0, nb.length);
                    }
                    p += 3 + len;
                    continue;
                }
                case 3, 4, 9, 10, 11, 12, 17, 18 -> size = 5;
                case 5, 6 -> {
                    size = 9;
                    i++; // takes two slots
                }
                case 7, 8, 16, 19, 20 -> size = 3;
                case 15 -> size = 4;
                default -> throw new IllegalArgumentException("unknown constant pool tag " + tag + " at " + p);
            }
            out.write(b, p, size);
            p += size;
        }
        out.write(b, p, b.length - p);
        return out.toByteArray();
    }

    private static int u2(byte[] b, int p) {
        return (b[p] & 0xff) << 8 | b[p + 1] & 0xff;
    }
}
