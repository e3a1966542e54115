package sample.retransform;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Another agent, as APM and profiling agents are: a retransformation-capable transformer that puts advice (a call to
 * {@link Probe#hit}) at the start of every method of {@link Target}, and hands the program its {@link Instrumentation}
 * so that it can retransform {@code Target} while it runs (as such agents do when their configuration changes).
 * Its jar holds only a manifest; the classes come from the class path.
 */
public final class Retransformer {
    static volatile Instrumentation inst;

    private Retransformer() {
    }

    public static void premain(String args, Instrumentation instrumentation) {
        instrumentation.addTransformer(new ClassFileTransformer() {
            @Override
            public byte[] transform(Module module, ClassLoader loader, String name, Class<?> redefined,
                                    ProtectionDomain pd, byte[] bytes) {
                return "sample/retransform/Target".equals(name) ? advise(bytes) : null;
            }
        }, true);
        inst = instrumentation;
    }

    static byte[] advise(byte[] bytes) {
        ClassReader reader = new ClassReader(bytes);
        ClassWriter writer = new ClassWriter(reader, 0);
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String desc, String sig, String[] exceptions) {
                MethodVisitor mv = super.visitMethod(access, name, desc, sig, exceptions);
                return new MethodVisitor(Opcodes.ASM9, mv) {
                    @Override
                    public void visitCode() {
                        super.visitCode();
                        super.visitMethodInsn(Opcodes.INVOKESTATIC, "sample/retransform/Probe", "hit", "()V", false);
                    }

                    @Override
                    public void visitMaxs(int maxStack, int maxLocals) {
                        super.visitMaxs(Math.max(maxStack, 1), maxLocals);
                    }
                };
            }
        }, 0);
        return writer.toByteArray();
    }
}
