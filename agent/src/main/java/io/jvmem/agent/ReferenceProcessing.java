package io.jvmem.agent;

import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * Waits for the JDK's pending reference processing, as {@code java.nio.Bits.reserveMemory} does: the cleaners of
 * unreachable pool buffers run on the Reference Handler thread, and this says whether some were still pending. The
 * JDK's method is internal ({@code JavaLangRefAccess.waitForReferenceProcessing}); a class defined in java.nio next to
 * the bridge calls it ({@code io.jvmem.agent.refwait.WaitForReferenceProcessing}). Where that class cannot be defined
 * or linked, {@link #await} reports nothing pending and the callers' sleeps do the waiting. Thread-safe.
 */
final class ReferenceProcessing {
    private final Callable<Boolean> jdk;
    private volatile boolean broken;

    private ReferenceProcessing(Callable<Boolean> jdk) {
        this.jdk = jdk;
        this.broken = jdk == null;
    }

    /**
     * Defines the java.nio class through {@code nio} and wraps an instance of it, called once so that it is linked
     * now (it returns at once unless references are pending); a stand-in if any of that fails.
     */
    @SuppressWarnings("unchecked")
    static ReferenceProcessing define(Function<byte[], Class<?>> nio, byte[] classFile) {
        try {
            Callable<Boolean> jdk = (Callable<Boolean>) nio.apply(classFile).getConstructor().newInstance();
            jdk.call();
            return new ReferenceProcessing(jdk);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ReferenceProcessing(null);
        } catch (Exception | LinkageError e) {
            return new ReferenceProcessing(null);
        }
    }

    /** Whether the JDK's wait is in use (false: the stand-in that reports nothing pending). */
    boolean available() {
        return !broken;
    }

    /**
     * If references are pending or being processed, waits for progress (not necessarily completion) and returns
     * true; otherwise returns false at once.
     *
     * @throws InterruptedException if the thread is interrupted while it waits
     */
    boolean await() throws InterruptedException {
        if (broken) {
            return false;
        }
        try {
            return jdk.call();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception | LinkageError e) {
            broken = true; // a JDK without the method: the callers' sleeps wait instead
            return false;
        }
    }
}
