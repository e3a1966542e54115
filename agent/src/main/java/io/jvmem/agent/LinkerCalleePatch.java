package io.jvmem.agent;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Makes every downcall handle the JDK's linker returns pool-aware, however the program reached
 * {@code Linker.downcallHandle}: the second change the agent makes to a JDK class, after {@link UnsafeCalleePatch}.
 * Call-site rewriting adapts the handle a program's own {@code downcallHandle} call returns, but a handle to
 * {@code downcallHandle} (from {@code findVirtual}), a {@code Method.invoke} of it, or a lambda made from either calls
 * the JDK directly; a handle to libc's free made that way passed a pool address to free(3), and the process aborted.
 *
 * <p>Both public {@code downcallHandle} methods of {@code jdk.internal.foreign.abi.AbstractLinker} (JDK 22 to 25: the
 * native linker's superclass, where they are final) pass their result through {@code JvmemReflect.linked} (with their arguments) before
 * they return. The JDK's checks (native access, the symbol, the layouts) run first, unchanged. A handle to one of libc's
 * allocation functions comes back pool-aware for frees and reallocations, outside any route (the site is known only at
 * a rewritten call site, which still routes allocations); every other handle comes back as made.
 */
final class LinkerCalleePatch {
    static final String CLASS = "jdk/internal/foreign/abi/AbstractLinker";
    private static final String MH = "Ljava/lang/invoke/MethodHandle;";
    private static final String FD = "Ljava/lang/foreign/FunctionDescriptor;";
    private static final String SEGMENT = "Ljava/lang/foreign/MemorySegment;";
    private static final String OPTIONS = "[Ljava/lang/foreign/Linker$Option;";
    /** {@code downcallHandle(symbol, function, options)}: the handle is bound to the symbol. */
    static final String BOUND = "(" + SEGMENT + FD + OPTIONS + ")" + MH;
    /** {@code downcallHandle(function, options)}: the function's address is the handle's first argument. */
    static final String UNBOUND = "(" + FD + OPTIONS + ")" + MH;

    private LinkerCalleePatch() {
    }

    /** The patched class file, or null unless both methods are found (the class then loads unchanged). */
    static byte[] patch(byte[] bytes) {
        ClassReader reader = new ClassReader(bytes);
        ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
        int[] patched = new int[1];
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature, String[] exceptions) {
                MethodVisitor mv = super.visitMethod(access, name, descriptor, signature, exceptions);
                if ((access & Opcodes.ACC_STATIC) != 0 || !name.equals("downcallHandle")) {
                    return mv;
                }
                boolean bound = descriptor.equals(BOUND);
                if (!bound && !descriptor.equals(UNBOUND)) {
                    return mv;
                }
                patched[0]++;
                return new MethodVisitor(Opcodes.ASM9, mv) {
                    @Override
                    public void visitInsn(int opcode) {
                        if (opcode == Opcodes.ARETURN) { // the handle is on the stack: pass it through the bridge
                            super.visitVarInsn(Opcodes.ALOAD, 1);
                            super.visitVarInsn(Opcodes.ALOAD, 2);
                            if (bound) {
                                super.visitVarInsn(Opcodes.ALOAD, 3);
                            }
                            super.visitMethodInsn(Opcodes.INVOKESTATIC, Intercepts.REFLECT, "linked",
                                    "(" + MH + (bound ? SEGMENT : "") + FD + OPTIONS + ")" + MH, false);
                        }
                        super.visitInsn(opcode);
                    }
                };
            }
        }, 0);
        return patched[0] == 2 ? writer.toByteArray() : null;
    }
}
