package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.util.CheckClassAdapter;

/** The patch of the running JDK's linker class, checked on its class file (no agent needed). */
@org.junit.jupiter.api.Tag("unit")
class LinkerCalleePatchTest {
    private static byte[] jdkLinker() throws IOException {
        try (InputStream in = Object.class.getModule().getResourceAsStream(LinkerCalleePatch.CLASS + ".class")) {
            assertNotNull(in, "no " + LinkerCalleePatch.CLASS + " in this JDK");
            return in.readAllBytes();
        }
    }

    /** Per downcallHandle method: the bridge calls it makes, in order, each followed by what comes next. */
    private static List<String> bridgeCalls(byte[] classFile) {
        List<String> calls = new ArrayList<>();
        new ClassReader(classFile).accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature, String[] exceptions) {
                if (!name.equals("downcallHandle")) {
                    return null;
                }
                return new MethodVisitor(Opcodes.ASM9) {
                    private String pending;

                    @Override
                    public void visitMethodInsn(int opcode, String owner, String n, String d, boolean itf) {
                        pending = owner.equals(Intercepts.REFLECT) ? descriptor + " -> " + n + d : null;
                    }

                    @Override
                    public void visitInsn(int opcode) {
                        if (pending != null && opcode == Opcodes.ARETURN) {
                            calls.add(pending + " then ARETURN");
                        }
                        pending = null;
                    }
                };
            }
        }, 0);
        return calls;
    }

    @Test
    @Timeout(10)
    void bothDowncallHandleMethodsPassTheirResultThroughTheBridgeJustBeforeReturning() throws IOException {
        byte[] patched = LinkerCalleePatch.patch(jdkLinker());
        assertNotNull(patched, "this JDK's linker does not have the two methods");
        String mh = "Ljava/lang/invoke/MethodHandle;";
        assertEquals(List.of(
                LinkerCalleePatch.BOUND + " -> linked(" + mh + "Ljava/lang/foreign/MemorySegment;Ljava/lang/foreign/FunctionDescriptor;"
                        + "[Ljava/lang/foreign/Linker$Option;)"
                        + mh + " then ARETURN",
                LinkerCalleePatch.UNBOUND + " -> linked(" + mh + "Ljava/lang/foreign/FunctionDescriptor;[Ljava/lang/foreign/Linker$Option;)"
                        + mh + " then ARETURN"),
                bridgeCalls(patched));
        assertEquals(List.of(), bridgeCalls(jdkLinker()));
    }

    @Test
    @Timeout(10)
    void thePatchedLinkerPassesCheckClassAdapter() throws IOException {
        StringWriter sw = new StringWriter();
        CheckClassAdapter.verify(new ClassReader(LinkerCalleePatch.patch(jdkLinker())), null, false, new PrintWriter(sw));
        assertEquals("", sw.toString(), "CheckClassAdapter found problems");
    }

    @Test
    @Timeout(10)
    void aClassWithoutBothMethodsIsLeftAsItIs() throws IOException {
        try (InputStream in = Object.class.getModule().getResourceAsStream("java/lang/Object.class")) {
            assertNull(LinkerCalleePatch.patch(in.readAllBytes()));
        }
    }
}
