package sample.late;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;

/**
 * Another agent, retransformation-capable, that adds a field to {@code sample.late.Victim} whenever that class is
 * retransformed: the JVM refuses such a retransformation (a schema change), and with it any batch the class is in.
 */
public final class FieldAddingAgent {
    private FieldAddingAgent() {
    }

    public static void premain(String args, Instrumentation inst) {
        inst.addTransformer(new ClassFileTransformer() {
            @Override
            public byte[] transform(Module module, ClassLoader loader, String name, Class<?> redefined,
                                    ProtectionDomain domain, byte[] bytes) {
                if (redefined == null || !"sample/late/Victim".equals(name)) {
                    return null;
                }
                ClassReader r = new ClassReader(bytes);
                ClassWriter w = new ClassWriter(r, 0);
                r.accept(new ClassVisitor(Opcodes.ASM9, w) {
                    @Override
                    public void visitEnd() {
                        visitField(Opcodes.ACC_PRIVATE | Opcodes.ACC_STATIC, "added", "I", null, null).visitEnd();
                        super.visitEnd();
                    }
                }, 0);
                return w.toByteArray();
            }
        }, true);
    }
}
