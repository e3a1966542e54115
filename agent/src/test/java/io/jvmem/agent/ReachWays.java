package io.jvmem.agent;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Handle;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.commons.ClassRemapper;
import org.objectweb.asm.commons.Remapper;
import sample.reachapi.Way;

/**
 * The ways of reaching off-heap memory written in {@code sample.reach}, which the integration tests' config selects
 * (route {@code reach}, pool {@code reach}), and the same code unselected: the class files renamed into
 * {@code sample.reachtwin} and defined by a fresh class loader, so the agent's transformer sees them under a name
 * no route includes. One source, two selections, no copied code.
 */
final class ReachWays {
    static final String SELECTED = "sample/reach/";
    static final String UNSELECTED = "sample/reachtwin/";
    /** The classes of sample.reach that make ways ({@code public static Map<String, Way> ways()}). */
    static final List<String> FAMILIES = List.of("UnsafeWays", "BufferWays", "ArenaWays", "NettyWays", "LibcWays", "HiddenWays");

    private ReachWays() {
    }

    /** Every way, by name, as code in {@code pkg} (SELECTED or UNSELECTED, internal form) sees it. */
    static Map<String, Way> load(ClassLoader loader, String pkg) {
        Map<String, Way> ways = new LinkedHashMap<>();
        try {
            for (String family : FAMILIES) {
                @SuppressWarnings("unchecked")
                Map<String, Way> w = (Map<String, Way>) Class.forName((pkg + family).replace('/', '.'), true, loader)
                        .getMethod("ways").invoke(null);
                ways.putAll(w);
            }
            ways.putAll(constants(pkg));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        return ways;
    }

    /** A fresh loader of the sample.reach classes renamed into sample.reachtwin. */
    static ClassLoader twin() {
        return new Twin(ReachWays.class.getClassLoader());
    }

    /** The class file of a sample.reach class, as the compiler wrote it. */
    static byte[] classFile(String internalName) {
        try (InputStream in = ReachWays.class.getResourceAsStream("/" + internalName + ".class")) {
            if (in == null) {
                throw new IllegalArgumentException("no class file " + internalName);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code bytes} with every class of {@code from} (internal prefix) renamed into {@code to}. */
    static byte[] rename(byte[] bytes, String from, String to) {
        ClassReader reader = new ClassReader(bytes);
        ClassWriter writer = new ClassWriter(0);
        reader.accept(new ClassRemapper(writer, new Remapper() {
            @Override
            public String map(String internalName) {
                return internalName.startsWith(from) ? to + internalName.substring(from.length()) : internalName;
            }
        }), 0);
        return writer.toByteArray();
    }

    /** Defines sample.reachtwin.X from sample/reach/X.class, and serves those class files as resources. */
    private static final class Twin extends ClassLoader {
        static {
            registerAsParallelCapable();
        }

        Twin(ClassLoader parent) {
            super("reach-twin", parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.startsWith(UNSELECTED.replace('/', '.'))) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                return c != null ? c : findClass(name);
            }
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            byte[] b = twinBytes(name.replace('.', '/') + ".class");
            if (b == null) {
                throw new ClassNotFoundException(name);
            }
            return defineClass(name, b, 0, b.length);
        }

        @Override
        public InputStream getResourceAsStream(String name) {
            byte[] b = twinBytes(name);
            return b != null ? new ByteArrayInputStream(b) : super.getResourceAsStream(name);
        }

        private static byte[] twinBytes(String resource) {
            if (!resource.startsWith(UNSELECTED) || !resource.endsWith(".class")) {
                return null;
            }
            String original = SELECTED + resource.substring(UNSELECTED.length(), resource.length() - ".class".length());
            try (InputStream in = Twin.class.getResourceAsStream("/" + original + ".class")) {
                return in == null ? null : rename(in.readAllBytes(), SELECTED, UNSELECTED);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    // Handle constants: javac never writes `ldc MethodHandle`, so these classes are generated.

    static final String CONSTANTS = "Constants";

    /**
     * A class {@code <pkg>Constants} whose static methods each load a handle constant ({@code ldc MethodHandle}) and
     * call it with invokeExact: {@code allocateDirect(I)}, {@code allocateMemory(Unsafe, J)},
     * {@code freeMemory(Unsafe, J)} and {@code allocate(Arena, J)}.
     */
    static byte[] constantsClass(String pkg) {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cw.visit(Opcodes.V17, Opcodes.ACC_PUBLIC | Opcodes.ACC_FINAL | Opcodes.ACC_SUPER, pkg + CONSTANTS, null,
                "java/lang/Object", null);
        cw.visitSource(CONSTANTS + ".java", null);
        String unsafe = "Lsun/misc/Unsafe;";
        constant(cw, "allocateDirect", "(I)Ljava/nio/ByteBuffer;",
                new Handle(Opcodes.H_INVOKESTATIC, "java/nio/ByteBuffer", "allocateDirect", "(I)Ljava/nio/ByteBuffer;", false));
        constant(cw, "allocateMemory", "(" + unsafe + "J)J",
                new Handle(Opcodes.H_INVOKEVIRTUAL, "sun/misc/Unsafe", "allocateMemory", "(J)J", false));
        constant(cw, "freeMemory", "(" + unsafe + "J)V",
                new Handle(Opcodes.H_INVOKEVIRTUAL, "sun/misc/Unsafe", "freeMemory", "(J)V", false));
        constant(cw, "allocate", "(Ljava/lang/foreign/Arena;J)Ljava/lang/foreign/MemorySegment;",
                new Handle(Opcodes.H_INVOKEINTERFACE, "java/lang/foreign/Arena", "allocate",
                        "(J)Ljava/lang/foreign/MemorySegment;", true));
        cw.visitEnd();
        return cw.toByteArray();
    }

    private static void constant(ClassWriter cw, String name, String desc, Handle handle) {
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, name, desc, null, null);
        mv.visitCode();
        org.objectweb.asm.Label line = new org.objectweb.asm.Label();
        mv.visitLabel(line);
        mv.visitLineNumber(1, line);
        mv.visitLdcInsn(handle);
        int local = 0;
        for (org.objectweb.asm.Type t : org.objectweb.asm.Type.getArgumentTypes(desc)) {
            mv.visitVarInsn(t.getOpcode(Opcodes.ILOAD), local);
            local += t.getSize();
        }
        mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, "java/lang/invoke/MethodHandle", "invokeExact", desc, false);
        mv.visitInsn(org.objectweb.asm.Type.getReturnType(desc).getOpcode(Opcodes.IRETURN));
        mv.visitMaxs(0, 0);
        mv.visitEnd();
    }

    /** The handle-constant ways, from a generated class defined in {@code pkg} by a loader of its own. */
    private static Map<String, Way> constants(String pkg) throws ReflectiveOperationException {
        byte[] bytes = constantsClass(pkg);
        String name = (pkg + CONSTANTS).replace('/', '.');
        ClassLoader loader = new ClassLoader("reach-constants", ReachWays.class.getClassLoader()) {
            @Override
            protected Class<?> findClass(String n) throws ClassNotFoundException {
                if (!n.equals(name)) {
                    throw new ClassNotFoundException(n);
                }
                return defineClass(n, bytes, 0, bytes.length);
            }
        };
        Class<?> c = loader.loadClass(name);
        MethodHandles.Lookup l = MethodHandles.publicLookup();
        MethodHandle allocateDirect = l.findStatic(c, "allocateDirect", MethodType.methodType(ByteBuffer.class, int.class));
        MethodHandle allocateMemory = l.findStatic(c, "allocateMemory", MethodType.methodType(long.class, sun.misc.Unsafe.class, long.class));
        MethodHandle freeMemory = l.findStatic(c, "freeMemory", MethodType.methodType(void.class, sun.misc.Unsafe.class, long.class));
        MethodHandle allocate = l.findStatic(c, "allocate", MethodType.methodType(MemorySegment.class, Arena.class, long.class));
        Map<String, Way> ways = new LinkedHashMap<>();
        ways.put("allocateDirect: handle constant", Way.ofBuffers(n -> (ByteBuffer) allocateDirect.invokeExact(n)));
        ways.put("Unsafe: handle constants", Way.of(n -> (long) allocateMemory.invokeExact(Way.UNSAFE, n),
                a -> { freeMemory.invokeExact(Way.UNSAFE, a); }));
        ways.put("Arena: handle constant", Way.ofSegments((arena, n) -> (MemorySegment) allocate.invokeExact(arena, n)));
        return ways;
    }
}
