package io.jvmem.agent.refwait;

import java.util.concurrent.Callable;

/**
 * The JDK's own wait for pending reference processing, as {@code java.nio.Bits.reserveMemory} uses it before it gives
 * up on direct memory. Renamed {@code java.nio.JvmemReferenceProcessing} and defined in java.base at run time (see
 * {@code BridgeInstaller}), where it may call {@code jdk.internal.access} without any export; the agent holds it as a
 * {@link Callable} and never names it. Public so that the agent can instantiate it; all it can do for anyone else is
 * wait, as any failed {@code ByteBuffer.allocateDirect} does.
 */
public final class WaitForReferenceProcessing implements Callable<Boolean> {
    public WaitForReferenceProcessing() {
    }

    /**
     * Waits for progress of the Reference Handler if references are pending or being processed (the cleaners of
     * unreachable buffers run there) and returns true; returns false at once if none are.
     */
    @Override
    public Boolean call() throws InterruptedException {
        return SharedSecretsStub.getJavaLangRefAccess().waitForReferenceProcessing();
    }
}
