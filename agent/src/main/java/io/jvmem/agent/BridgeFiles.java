package io.jvmem.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Build step (run by Maven after compiling the agent): writes the classes the agent defines at run time, already
 * renamed ({@link BridgeInstaller#NAMES}), under {@value #DIR} next to the agent's classes. The agent then reads them
 * as they are: renaming them at start-up took about 13 ms of CPU time in the interpreter. A tree compiled without this
 * step (an IDE's) still works; the agent renames the classes itself ({@link BridgeInstaller#defined}).
 *
 * <p>It also writes them, with the other class files read at run time ({@link #ALSO_EMBEDDED}), into
 * {@link DefinedClassFiles} (replacing the compiled stub), which the boot loader loads without the agent opening its
 * jar.
 */
public final class BridgeFiles {
    /** Where the renamed class files live, relative to the agent's classes (and in the agent jar). */
    static final String DIR = "META-INF/jvmem/defined/";
    /** The agent's classes defined at run time (into java.base, or next to the agent for the hooks). */
    static final List<String> DEFINED = List.of(
            "io/jvmem/agent/bridge/Hooks", "io/jvmem/agent/bridge/Release", "io/jvmem/agent/bridge/SessionRelease",
            "io/jvmem/agent/bridge/Bridge",
            "io/jvmem/agent/bridge/RoutedArena", "io/jvmem/agent/bridge/Invocation", "io/jvmem/agent/bridge/Reflect",
            "io/jvmem/agent/bridge/Downcalls", "io/jvmem/agent/refwait/WaitForReferenceProcessing",
            "io/jvmem/agent/HooksImpl");

    /** Class files read at run time as they are: the java.nio definer and the start-up warm-up's sample. */
    static final List<String> ALSO_EMBEDDED = List.of("io/jvmem/agent/nio/Definer", "io/jvmem/agent/warmup/Sample");
    /** The most bytes one chunk may take in modified UTF-8 (a CONSTANT_Utf8's limit). */
    static final int MAX_CONSTANT = 65535;

    private BridgeFiles() {
    }

    /** {@code args[0]}: the agent's classes directory. */
    public static void main(String[] args) throws IOException {
        Path classes = Path.of(args[0]);
        Map<String, byte[]> embedded = new LinkedHashMap<>();
        for (String name : DEFINED) {
            byte[] renamed = ClassRenamer.rename(Files.readAllBytes(classes.resolve(name + ".class")), BridgeInstaller.NAMES);
            Path out = classes.resolve(DIR + name + ".class");
            Files.createDirectories(out.getParent());
            Files.write(out, renamed);
            embedded.put(DIR + name, renamed);
        }
        for (String name : ALSO_EMBEDDED) {
            embedded.put(name, Files.readAllBytes(classes.resolve(name + ".class")));
        }
        Files.write(classes.resolve(TABLE + ".class"), tableClass(embedded));
    }

    static final String TABLE = "io/jvmem/agent/DefinedClassFiles";

    /** {@link DefinedClassFiles} whose {@code table()} returns {@code files} in its format. */
    static byte[] tableClass(Map<String, byte[]> files) {
        List<String> items = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            List<String> chunks = chunks(e.getValue());
            items.add(e.getKey());
            items.add(Integer.toString(chunks.size()));
            items.addAll(chunks);
        }
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cw.visit(Opcodes.V22, Opcodes.ACC_FINAL | Opcodes.ACC_SUPER, TABLE, null, "java/lang/Object", null);
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_STATIC, "table", "()[Ljava/lang/String;", null, null);
        mv.visitCode();
        mv.visitLdcInsn(items.size());
        mv.visitTypeInsn(Opcodes.ANEWARRAY, "java/lang/String");
        for (int i = 0; i < items.size(); i++) {
            mv.visitInsn(Opcodes.DUP);
            mv.visitLdcInsn(i);
            mv.visitLdcInsn(items.get(i));
            mv.visitInsn(Opcodes.AASTORE);
        }
        mv.visitInsn(Opcodes.ARETURN);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        cw.visitEnd();
        return cw.toByteArray();
    }

    /** {@code bytes} as Latin-1 strings, each at most {@link #MAX_CONSTANT} bytes in modified UTF-8. */
    static List<String> chunks(byte[] bytes) {
        List<String> out = new ArrayList<>();
        int start = 0;
        int encoded = 0;
        for (int i = 0; i < bytes.length; i++) {
            int b = bytes[i] & 0xff;
            int n = b >= 1 && b <= 0x7f ? 1 : 2; // NUL and 0x80-0xff take two bytes in modified UTF-8
            if (encoded + n > MAX_CONSTANT) {
                out.add(new String(bytes, start, i - start, StandardCharsets.ISO_8859_1));
                start = i;
                encoded = 0;
            }
            encoded += n;
        }
        out.add(new String(bytes, start, bytes.length - start, StandardCharsets.ISO_8859_1));
        return out;
    }
}
