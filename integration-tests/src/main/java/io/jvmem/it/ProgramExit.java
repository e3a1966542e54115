package io.jvmem.it;

import java.util.concurrent.Callable;

/**
 * How every program here ends, so its test can read the outcome: exit 0, or {@code "<TAG> FAIL <why>"} on standard
 * output and exit 1. A throwable is a failure too (its stack trace follows the FAIL line).
 */
final class ProgramExit {
    private ProgramExit() {
    }

    /** Runs {@code body}, which prints its own OK or FAIL line and returns the exit code. */
    static void withCode(String tag, Callable<Integer> body) {
        int code;
        try {
            code = body.call();
        } catch (Throwable t) {
            System.out.println(tag + " FAIL " + t);
            t.printStackTrace(System.out);
            code = 1;
        }
        System.out.flush();
        System.exit(code);
    }

    /** Runs {@code body}, which prints its OK line and returns null, or returns why it failed. */
    static void withFailure(String tag, Callable<String> body) {
        withCode(tag, () -> {
            String failure = body.call();
            if (failure == null) {
                return 0;
            }
            System.out.println(tag + " FAIL " + failure);
            return 1;
        });
    }
}
