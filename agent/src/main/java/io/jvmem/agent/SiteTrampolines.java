package io.jvmem.agent;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.ConcurrentHashMap;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;

/**
 * Direct method handles for routed run-time handles ({@link HandleRoutes}). A handle a program looks up for an
 * intercepted member must carry its call site's id to the bridge; bound with {@code insertArguments} it would no
 * longer be a direct handle, and the JDK refuses such handles where it needs the member behind them:
 * {@code LambdaMetafactory} ("not a direct method handle", which fast-reflection code meets when it turns a looked-up
 * handle into a lambda), {@code Lookup.revealDirect} and {@code MethodHandles.reflectAs}. So each (member, site) gets a
 * one-method hidden class in java.nio whose static method has exactly the program's handle type and calls the bridge
 * with the site as a constant; its handle is direct, of kind {@code REF_invokeStatic}.
 *
 * <p>One class per (member, site), made on the first lookup and cached. Thread-safe.
 */
final class SiteTrampolines {
    /** The hidden classes' name before the JVM's suffix: in java.nio, next to the bridge that defines them. */
    private static final String NAME = "java/nio/JvmemSite";
    private final Definer definer;
    private final ConcurrentHashMap<String, MethodHandle> made = new ConcurrentHashMap<>();

    /** Defines a hidden class in java.nio (the bridge's {@code defineSiteClass}, holding the hooks' key). */
    interface Definer {
        Class<?> define(byte[] classFile) throws Throwable;
    }

    SiteTrampolines(Definer definer) {
        this.definer = definer;
    }

    /**
     * A direct handle of type {@code type}, a method named {@code member}, calling static {@code owner.name}
     * ({@code type}'s parameters, widened, then an {@code int} site) with {@code site}.
     */
    MethodHandle staticWithSite(MethodType type, String member, String owner, String name, MethodType target, int site) {
        return made.computeIfAbsent("s " + member + type.toMethodDescriptorString() + ' ' + owner + '.' + name
                + target.toMethodDescriptorString() + ' ' + site, k -> make(type, member, false, mv -> {
                    loadArguments(mv, type, 0);
                    mv.visitLdcInsn(site);
                    mv.visitMethodInsn(Opcodes.INVOKESTATIC, owner, name, target.toMethodDescriptorString(), false);
                }));
    }

    /**
     * A direct handle of type {@code type} (receiver first) calling interface member {@code refc.name} on the receiver
     * passed through static {@code owner.filter(receiver, site)}; a varargs method if {@code varargs} (the member is),
     * so that {@code revealDirect(h).isVarArgs()} and {@code reflectAs} say what they say of the member.
     */
    MethodHandle filteredReceiver(MethodType type, String owner, String filter, Class<?> refc, String name, int site,
                                  boolean varargs) {
        String iface = Type.getInternalName(refc);
        String filterDesc = "(L" + iface + ";I)L" + iface + ";";
        String memberDesc = type.dropParameterTypes(0, 1).toMethodDescriptorString();
        return made.computeIfAbsent("f " + owner + '.' + filter + ' ' + iface + '.' + name + memberDesc + ' ' + site
                + (varargs ? " varargs" : ""), k -> make(type, name, varargs, mv -> {
                    mv.visitVarInsn(Opcodes.ALOAD, 0);
                    mv.visitLdcInsn(site);
                    mv.visitMethodInsn(Opcodes.INVOKESTATIC, owner, filter, filterDesc, false);
                    loadArguments(mv, type, 1);
                    mv.visitMethodInsn(Opcodes.INVOKEINTERFACE, iface, name, memberDesc, true);
                }));
    }

    private interface Body {
        void emit(MethodVisitor mv);
    }

    private MethodHandle make(MethodType type, String name, boolean varargs, Body body) {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cw.visit(Opcodes.V17, Opcodes.ACC_PUBLIC | Opcodes.ACC_FINAL | Opcodes.ACC_SUPER, NAME, null, "java/lang/Object", null);
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC | (varargs ? Opcodes.ACC_VARARGS : 0), name,
                type.toMethodDescriptorString(), null, null);
        mv.visitCode();
        body.emit(mv);
        mv.visitInsn(Type.getType(type.returnType()).getOpcode(Opcodes.IRETURN));
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        cw.visitEnd();
        try {
            Class<?> c = definer.define(cw.toByteArray());
            return MethodHandles.publicLookup().findStatic(c, name, type);
        } catch (Throwable e) {
            throw new IllegalStateException("jvmem: could not define the trampoline of " + name + type, e);
        }
    }

    /** Pushes the parameters of {@code type} from index {@code from} on. */
    private static void loadArguments(MethodVisitor mv, MethodType type, int from) {
        int slot = 0;
        for (int i = 0; i < type.parameterCount(); i++) {
            Type t = Type.getType(type.parameterType(i));
            if (i >= from) {
                mv.visitVarInsn(t.getOpcode(Opcodes.ILOAD), slot);
            }
            slot += t.getSize();
        }
    }
}
