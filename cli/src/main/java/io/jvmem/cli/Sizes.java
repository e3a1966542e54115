package io.jvmem.cli;

/** Sizes as the agent's config writes them: bytes with an optional k, m, g or t suffix (powers of 1024). */
final class Sizes {
    private Sizes() {
    }

    static long parse(String s) {
        String v = s.trim().toLowerCase(java.util.Locale.ROOT);
        int shift = 0;
        if (!v.isEmpty()) {
            switch (v.charAt(v.length() - 1)) {
                case 'k' -> shift = 10;
                case 'm' -> shift = 20;
                case 'g' -> shift = 30;
                case 't' -> shift = 40;
                default -> shift = -1;
            }
        }
        String digits = shift > 0 ? v.substring(0, v.length() - 1) : v;
        try {
            long n = Long.parseLong(digits);
            if (n < 0 || (shift > 0 && n > (Long.MAX_VALUE >> shift))) {
                throw new NumberFormatException();
            }
            return shift > 0 ? n << shift : n;
        } catch (NumberFormatException e) {
            throw new Inspect.Refused(JvmemCli.CANNOT, "\"" + s + "\" is not a size (bytes, with an optional k, m, g or t suffix)");
        }
    }
}
