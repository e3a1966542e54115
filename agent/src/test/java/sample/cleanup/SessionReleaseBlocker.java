package sample.cleanup;

import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandles;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Set;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;

/**
 * An agent started before jvmem that takes the name of jvmem's session cleanup ({@code java.nio.JvmemSessionRelease})
 * with an empty class, as a JDK whose internals differ would make it fail: jvmem's routed arenas must then hand their
 * cleanups to the JDK through {@code MemorySegment.reinterpret} with the same contract.
 */
public final class SessionReleaseBlocker {
    private SessionReleaseBlocker() {
    }

    public static void premain(String args, Instrumentation inst) throws Exception {
        inst.redefineModule(ByteBuffer.class.getModule(), Set.of(), Map.of(),
                Map.of("java.nio", Set.of(SessionReleaseBlocker.class.getModule())), Set.of(), Map.of());
        ClassWriter w = new ClassWriter(0);
        w.visit(Opcodes.V21, Opcodes.ACC_PUBLIC | Opcodes.ACC_FINAL | Opcodes.ACC_SUPER, "java/nio/JvmemSessionRelease", null,
                "java/lang/Object", null);
        w.visitEnd();
        MethodHandles.privateLookupIn(ByteBuffer.class, MethodHandles.lookup()).defineClass(w.toByteArray());
    }
}
