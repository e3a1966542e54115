package io.jvmem.agent;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Makes {@code sun.misc.Unsafe.freeMemory} and {@code reallocateMemory} themselves pool-aware: the one change the agent
 * makes to a JDK class. Call-site rewriting covers every application class, but a call the JDK makes on the program's
 * behalf is not an application call site: {@code Method.invoke} of {@code Method.invoke}, a handle to
 * {@code Lookup.findVirtual}, {@code java.beans.Expression}. Only applications call {@code sun.misc.Unsafe} (the JDK
 * uses {@code jdk.internal.misc.Unsafe}), so its own code paths are unchanged; each of the two methods gains a prologue
 * that hands a pool address to the bridge and otherwise runs the JDK's body as before.
 */
final class UnsafeCalleePatch {
    static final String CLASS = "sun/misc/Unsafe";

    private UnsafeCalleePatch() {
    }

    /** The patched class file, or null if the methods are not found (the class then loads unchanged). */
    static byte[] patch(byte[] bytes) {
        ClassReader reader = new ClassReader(bytes);
        ClassWriter writer = new ClassWriter(reader, 0);
        boolean[] patched = new boolean[1];
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature, String[] exceptions) {
                MethodVisitor mv = super.visitMethod(access, name, descriptor, signature, exceptions);
                if ((access & Opcodes.ACC_STATIC) != 0) {
                    return mv;
                }
                if (name.equals("freeMemory") && descriptor.equals("(J)V")) {
                    patched[0] = true;
                    return new Prologue(mv, false);
                }
                if (name.equals("reallocateMemory") && descriptor.equals("(JJ)J")) {
                    patched[0] = true;
                    return new Prologue(mv, true);
                }
                return mv;
            }
        }, 0);
        return patched[0] ? writer.toByteArray() : null;
    }

    /**
     * {@code if (JvmemBridge.owns(address)) return JvmemBridge.<method>(this, address[, bytes]);} before the body. The
     * branch target has the method's entry frame (F_SAME), so the body's own frames stay valid.
     */
    private static final class Prologue extends MethodVisitor {
        private final boolean realloc;

        Prologue(MethodVisitor mv, boolean realloc) {
            super(Opcodes.ASM9, mv);
            this.realloc = realloc;
        }

        @Override
        public void visitCode() {
            super.visitCode();
            Label jdk = new Label();
            super.visitVarInsn(Opcodes.LLOAD, 1);
            super.visitMethodInsn(Opcodes.INVOKESTATIC, Intercepts.BRIDGE, "ownsPoolBlock", "(J)Z", false);
            super.visitJumpInsn(Opcodes.IFEQ, jdk);
            super.visitVarInsn(Opcodes.ALOAD, 0);
            super.visitVarInsn(Opcodes.LLOAD, 1);
            if (realloc) {
                super.visitVarInsn(Opcodes.LLOAD, 3);
                super.visitMethodInsn(Opcodes.INVOKESTATIC, Intercepts.BRIDGE, "reallocateMemory", "(L" + CLASS + ";JJ)J", false);
                super.visitInsn(Opcodes.LRETURN);
            } else {
                super.visitMethodInsn(Opcodes.INVOKESTATIC, Intercepts.BRIDGE, "freeMemory", "(L" + CLASS + ";J)V", false);
                super.visitInsn(Opcodes.RETURN);
            }
            super.visitLabel(jdk);
            super.visitFrame(Opcodes.F_SAME, 0, null, 0, null);
        }

        @Override
        public void visitMaxs(int maxStack, int maxLocals) {
            super.visitMaxs(Math.max(maxStack, 5), maxLocals);
        }
    }
}
