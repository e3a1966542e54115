package io.jvmem.agent;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Handle;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;

/**
 * Rewrites the direct-memory call sites of one class to the bridge ({@code java.nio.JvmemBridge}).
 *
 * <p>In a class a route selects: {@code invokestatic ByteBuffer.allocateDirect(I)} and
 * {@code invokevirtual Unsafe.allocateMemory(J)} ({@code sun.misc.Unsafe}, or the {@code jdk.internal.misc.Unsafe} it
 * delegates to, which code given {@code --add-exports} calls) become bridge calls with the call site's id pushed as an
 * extra int argument; method references to them (a {@code LambdaMetafactory} invokedynamic whose implementation handle names
 * them) capture the site id as one more captured argument, so no method is added to the class (retransformation
 * forbids that). In every application class, routed or not: {@code Unsafe.freeMemory} and {@code reallocateMemory},
 * as calls, method references or handle constants, go to pool-aware bridge methods, so a pool address never reaches
 * free(3). {@code Unsafe.invokeCleaner} needs no rewriting: pool buffers carry the JDK's own cleaner, so explicit
 * release works from any call shape, reflection and method handles included.
 *
 * <p>Only instructions change: the operand stack at every branch target is the same as before, so stack map frames
 * stay valid and the writer copies the constant pool ({@code new ClassWriter(reader, 0)}); the extra int costs at
 * most one more stack slot.
 */
final class CallSiteRewriter {
    static final String BRIDGE = "java/nio/JvmemBridge";
    private static final String UNSAFE = "sun/misc/Unsafe";
    private static final String INTERNAL_UNSAFE = "jdk/internal/misc/Unsafe";
    private static final String BYTE_BUFFER = "java/nio/ByteBuffer";
    /** Its public subclass: {@code MappedByteBuffer.allocateDirect(n)} compiles to a call naming it. */
    private static final String MAPPED_BYTE_BUFFER = "java/nio/MappedByteBuffer";
    private static final String LMF = "java/lang/invoke/LambdaMetafactory";
    private static final int FLAG_SERIALIZABLE = 1;

    /** Registers a site and returns its id. */
    interface SiteRegistrar {
        int register(String siteName, String call, Route route);
    }

    private CallSiteRewriter() {
    }

    private static final byte[][] TARGET_NAMES = {
            ascii("allocateDirect"), ascii("allocateMemory"), ascii("reallocateMemory"), ascii("freeMemory")};

    private static byte[] ascii(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** Whether a CONSTANT_Utf8 of the class names a target method: the cheap test that lets most classes pass. */
    static boolean mentionsTargets(ClassReader reader, byte[] bytes) {
        for (int i = 1; i < reader.getItemCount(); i++) {
            int offset = reader.getItem(i);
            if (offset == 0 || bytes[offset - 1] != 1) { // CONSTANT_Utf8
                continue;
            }
            int length = reader.readUnsignedShort(offset);
            for (byte[] name : TARGET_NAMES) {
                if (length == name.length && java.util.Arrays.equals(bytes, offset + 2, offset + 2 + length, name, 0, length)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Returns the rewritten class, or null when nothing changed (the class then loads byte-identical).
     * {@code route} is null for a class no route selects.
     */
    static byte[] rewrite(byte[] bytes, Route route, SiteRegistrar sites) {
        ClassReader reader = new ClassReader(bytes);
        if (!mentionsTargets(reader, bytes)) {
            return null;
        }
        ClassWriter writer = new ClassWriter(reader, 0);
        ClassRewriter cv = new ClassRewriter(writer, route, sites);
        reader.accept(cv, 0);
        return cv.changed ? writer.toByteArray() : null;
    }

    private static final class ClassRewriter extends ClassVisitor {
        private final Route route;
        private final SiteRegistrar sites;
        private String className;
        private String source;
        boolean changed;

        ClassRewriter(ClassVisitor cv, Route route, SiteRegistrar sites) {
            super(Opcodes.ASM9, cv);
            this.route = route;
            this.sites = sites;
        }

        @Override
        public void visit(int version, int access, String name, String signature, String superName, String[] interfaces) {
            this.className = name.replace('/', '.');
            super.visit(version, access, name, signature, superName, interfaces);
        }

        @Override
        public void visitSource(String source, String debug) {
            this.source = source;
            super.visitSource(source, debug);
        }

        @Override
        public MethodVisitor visitMethod(int access, String name, String descriptor, String signature, String[] exceptions) {
            MethodVisitor mv = super.visitMethod(access, name, descriptor, signature, exceptions);
            return mv == null ? null : new MethodRewriter(mv, name);
        }

        private final class MethodRewriter extends MethodVisitor {
            private final String method;
            private int line = -1;
            private int extraStack;

            MethodRewriter(MethodVisitor mv, String method) {
                super(Opcodes.ASM9, mv);
                this.method = method;
            }

            @Override
            public void visitLineNumber(int line, Label start) {
                this.line = line;
                super.visitLineNumber(line, start);
            }

            private String siteName() {
                return className + "." + method + "(" + (source == null ? "Unknown Source" : source)
                        + (line >= 0 ? ":" + line : "") + ")";
            }

            private void pushSite(String call) {
                int id = sites.register(siteName(), call, route);
                if (id <= Short.MAX_VALUE) {
                    super.visitIntInsn(Opcodes.SIPUSH, id);
                } else {
                    super.visitLdcInsn(id);
                }
                extraStack = 1;
                changed = true;
            }

            @Override
            public void visitMethodInsn(int opcode, String owner, String name, String descriptor, boolean isInterface) {
                if (opcode == Opcodes.INVOKESTATIC && isByteBuffer(owner) && name.equals("allocateDirect")
                        && descriptor.equals("(I)Ljava/nio/ByteBuffer;") && route != null && route.allocateDirect) {
                    pushSite("allocateDirect");
                    super.visitMethodInsn(Opcodes.INVOKESTATIC, BRIDGE, "allocateDirect", "(II)Ljava/nio/ByteBuffer;", false);
                    return;
                }
                if (opcode == Opcodes.INVOKEVIRTUAL && isUnsafe(owner)) {
                    switch (name + descriptor) {
                        case "allocateMemory(J)J" -> {
                            if (route != null && route.allocateMemory) {
                                pushSite("allocateMemory");
                                super.visitMethodInsn(Opcodes.INVOKESTATIC, BRIDGE, name, "(L" + owner + ";JI)J", false);
                                return;
                            }
                        }
                        case "reallocateMemory(JJ)J" -> {
                            if (route != null && route.allocateMemory) {
                                pushSite("allocateMemory");
                                super.visitMethodInsn(Opcodes.INVOKESTATIC, BRIDGE, name, "(L" + owner + ";JJI)J", false);
                            } else {
                                changed = true;
                                super.visitMethodInsn(Opcodes.INVOKESTATIC, BRIDGE, name, staticDescriptor(owner, descriptor), false);
                            }
                            return;
                        }
                        case "freeMemory(J)V" -> {
                            changed = true;
                            super.visitMethodInsn(Opcodes.INVOKESTATIC, BRIDGE, name, staticDescriptor(owner, descriptor), false);
                            return;
                        }
                        default -> {
                        }
                    }
                }
                super.visitMethodInsn(opcode, owner, name, descriptor, isInterface);
            }

            @Override
            public void visitInvokeDynamicInsn(String name, String descriptor, Handle bsm, Object... args) {
                if (bsm.getOwner().equals(LMF) && args.length >= 3 && args[1] instanceof Handle impl
                        && !(bsm.getName().equals("altMetafactory") && args.length > 3 && args[3] instanceof Integer flags
                        && (flags & FLAG_SERIALIZABLE) != 0)) {
                    String captured = capturedSiteTarget(impl, descriptor);
                    if (captured != null) {
                        pushSite(impl.getName());
                        Object[] a = args.clone();
                        a[1] = new Handle(Opcodes.H_INVOKESTATIC, BRIDGE, captured, capturedDescriptor(impl, descriptor), false);
                        super.visitInvokeDynamicInsn(name, appendIntParameter(descriptor), bsm, a);
                        return;
                    }
                }
                Object[] a = args;
                for (int i = 0; i < args.length; i++) {
                    if (args[i] instanceof Handle h) {
                        Handle r = poolAware(h);
                        if (r != null) {
                            if (a == args) {
                                a = args.clone();
                            }
                            a[i] = r;
                        }
                    }
                }
                if (a != args) {
                    changed = true;
                }
                super.visitInvokeDynamicInsn(name, descriptor, bsm, a);
            }

            /** Bridge method for a method reference that can capture the site, or null. */
            private String capturedSiteTarget(Handle impl, String indyDescriptor) {
                if (route == null) {
                    return null;
                }
                int captured = Type.getArgumentTypes(indyDescriptor).length;
                if (impl.getTag() == Opcodes.H_INVOKESTATIC && isByteBuffer(impl.getOwner())
                        && impl.getName().equals("allocateDirect") && impl.getDesc().equals("(I)Ljava/nio/ByteBuffer;")
                        && route.allocateDirect && captured == 0) {
                    return "allocateDirectBound";
                }
                if (impl.getTag() == Opcodes.H_INVOKEVIRTUAL && isUnsafe(impl.getOwner())
                        && impl.getName().equals("allocateMemory") && impl.getDesc().equals("(J)J") && route.allocateMemory) {
                    return captured == 1 ? "allocateMemoryBound" : captured == 0 ? "allocateMemoryUnbound" : null;
                }
                return null;
            }

            private String capturedDescriptor(Handle impl, String indyDescriptor) {
                if (isByteBuffer(impl.getOwner())) {
                    return "(II)Ljava/nio/ByteBuffer;";
                }
                String receiver = "L" + impl.getOwner() + ";";
                return Type.getArgumentTypes(indyDescriptor).length == 1 ? "(" + receiver + "IJ)J" : "(I" + receiver + "J)J";
            }

            @Override
            public void visitLdcInsn(Object value) {
                if (value instanceof Handle h) {
                    Handle r = poolAware(h);
                    if (r != null) {
                        changed = true;
                        super.visitLdcInsn(r);
                        return;
                    }
                }
                super.visitLdcInsn(value);
            }

            @Override
            public void visitMaxs(int maxStack, int maxLocals) {
                super.visitMaxs(maxStack + extraStack, maxLocals);
            }
        }
    }

    /** The pool-aware replacement of a handle to Unsafe.freeMemory / reallocateMemory, or null. */
    static Handle poolAware(Handle h) {
        if (h.getTag() != Opcodes.H_INVOKEVIRTUAL || !isUnsafe(h.getOwner())) {
            return null;
        }
        return switch (h.getName() + h.getDesc()) {
            case "freeMemory(J)V", "reallocateMemory(JJ)J" ->
                    new Handle(Opcodes.H_INVOKESTATIC, BRIDGE, h.getName(), staticDescriptor(h.getOwner(), h.getDesc()), false);
            default -> null;
        };
    }

    private static boolean isByteBuffer(String owner) {
        return owner.equals(BYTE_BUFFER) || owner.equals(MAPPED_BYTE_BUFFER);
    }

    private static boolean isUnsafe(String owner) {
        return owner.equals(UNSAFE) || owner.equals(INTERNAL_UNSAFE);
    }

    /** An Unsafe instance method's descriptor with the receiver as first parameter. */
    private static String staticDescriptor(String owner, String descriptor) {
        return "(L" + owner + ";" + descriptor.substring(1);
    }

    private static String appendIntParameter(String descriptor) {
        int close = descriptor.indexOf(')');
        return descriptor.substring(0, close) + "I" + descriptor.substring(close);
    }
}
