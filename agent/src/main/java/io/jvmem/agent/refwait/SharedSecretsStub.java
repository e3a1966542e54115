package io.jvmem.agent.refwait;

/**
 * Stands for {@code jdk.internal.access.SharedSecrets} when {@link WaitForReferenceProcessing} is compiled; renamed to
 * it at run time. Never loaded itself.
 */
final class SharedSecretsStub {
    private SharedSecretsStub() {
    }

    static JavaLangRefAccessStub getJavaLangRefAccess() {
        throw new AssertionError("never called");
    }
}
