package io.jvmem.agent.refwait;

/**
 * Stands for the interface {@code jdk.internal.access.JavaLangRefAccess} (renamed to it at run time, so the call is
 * an interface call as the JDK's class needs). Never loaded itself.
 */
interface JavaLangRefAccessStub {
    boolean waitForReferenceProcessing() throws InterruptedException;
}
