package io.jvmem.agent.nio;

import java.lang.invoke.MethodHandles;
import java.nio.ByteBuffer;
import java.util.function.Function;

/**
 * Defines a class in {@code java.nio}. The agent loads it with a private class loader whose unnamed module is the only
 * module java.nio is opened to ({@code io.jvmem.agent.JavaNioDefiner}); loaded anywhere else it can do nothing.
 */
public final class Definer implements Function<byte[], Class<?>> {
    @Override
    public Class<?> apply(byte[] classFile) {
        try {
            return MethodHandles.privateLookupIn(ByteBuffer.class, MethodHandles.lookup()).defineClass(classFile);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("java.nio is not open to " + Definer.class.getModule(), e);
        }
    }
}
