package io.jvmem.allocator;

/** The per-thread last error message, as pmemcto_errormsg / vmem_errormsg. Written only on failure paths. */
final class Errors {
    private static final ThreadLocal<String> LAST = new ThreadLocal<>();

    private Errors() {
    }

    static void set(String message) {
        LAST.set(message);
    }

    static String last() {
        String s = LAST.get();
        return s == null ? "" : s;
    }
}
