package io.jvmem.allocator;

/**
 * The per-thread last error, as pmemcto_errormsg / vmem_errormsg, with its reason. Written only on failure paths.
 */
final class Errors {
    private record Last(PoolErrorReason reason, String message) {
    }

    private static final ThreadLocal<Last> LAST = new ThreadLocal<>();

    private Errors() {
    }

    static void set(PoolErrorReason reason, String message) {
        LAST.set(new Last(reason, message));
        PoolLog.error(reason, message); // level 1: error details (libpmemcto(7))
    }

    static void clear() {
        LAST.remove();
    }

    static String last() {
        Last l = LAST.get();
        return l == null ? "" : l.message();
    }

    static PoolErrorReason lastReason() {
        Last l = LAST.get();
        return l == null ? PoolErrorReason.NONE : l.reason();
    }
}
