package io.jvmem.agent;

import io.jvmem.agent.nio.Definer;
import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The one place that may define classes in {@code java.nio}: {@link Definer}, loaded by a class loader of its own,
 * whose unnamed module is the only module java.base opens java.nio to. The agent's classes sit in the boot loader's
 * unnamed module (the jar's {@code Boot-Class-Path}; the application loader's when the jar was renamed); opening
 * java.nio to that module would open it to every other class there (the class path, or {@code -Xbootclasspath/a}) and
 * could change what libraries detect (Netty, Arrow and Agrona probe the DirectByteBuffer constructor). A private loader's unnamed module is a module of its own, and costs one class
 * definition (a module layer would cost the module resolver, some 20 ms at start-up).
 */
final class JavaNioDefiner {
    /** Named, not referenced as a class literal: the agent's own loader never loads it. */
    private static final String DEFINER = "io/jvmem/agent/nio/Definer";

    private JavaNioDefiner() {
    }

    /** Opens java.nio to a fresh private definer (and lets java.base read {@code reads}); returns the definer. */
    @SuppressWarnings("unchecked")
    static Function<byte[], Class<?>> open(Instrumentation inst, Set<Module> reads) throws ReflectiveOperationException, IOException {
        Class<?> definer = new PrivateLoader().define(AgentJar.classFile(DEFINER));
        inst.redefineModule(ByteBuffer.class.getModule(), reads, Map.of(), Map.of("java.nio", Set.of(definer.getModule())),
                Set.of(), Map.of());
        return (Function<byte[], Class<?>>) definer.getConstructor().newInstance();
    }

    /** Holds the definer alone; its parent is the platform loader, so it sees the JDK and nothing of the application. */
    private static final class PrivateLoader extends ClassLoader {
        PrivateLoader() {
            super("jvmem-nio", ClassLoader.getPlatformClassLoader());
        }

        Class<?> define(byte[] classFile) {
            return defineClass(null, classFile, 0, classFile.length);
        }
    }
}
