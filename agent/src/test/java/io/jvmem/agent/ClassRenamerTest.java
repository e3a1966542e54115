package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.commons.ClassRemapper;
import org.objectweb.asm.commons.SimpleRemapper;
import org.objectweb.asm.util.TraceClassVisitor;

/** The start-up renamer against ASM's general remapper (the slow oracle): same classes, instruction for instruction. */
@org.junit.jupiter.api.Tag("unit")
class ClassRenamerTest {
    private static final Map<String, String> NAMES = BridgeInstaller.NAMES;

    private static String text(byte[] bytes) {
        StringWriter w = new StringWriter();
        new ClassReader(bytes).accept(new TraceClassVisitor(new PrintWriter(w)), 0);
        return w.toString();
    }

    private static byte[] bytes(String internalName) throws Exception {
        try (InputStream in = ClassRenamerTest.class.getResourceAsStream("/" + internalName + ".class")) {
            return in.readAllBytes();
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(60)
    void renamerAgreesWithAsmRemapperOnEveryBridgeClass() throws Exception {
        for (String c : BridgeFiles.DEFINED) {
            byte[] original = bytes(c);
            ClassWriter w = new ClassWriter(0);
            new ClassReader(original).accept(new ClassRemapper(w, new SimpleRemapper(NAMES)), 0);
            String expected = text(w.toByteArray());
            String actual = text(ClassRenamer.rename(original, NAMES));
            assertEquals(expected, actual, c);
            assertFalse(actual.contains("io/jvmem/agent/bridge/"), c);
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(60)
    void theClassesRenamedAtBuildTimeAreTheOnesTheAgentWouldRename() throws Exception {
        for (String c : BridgeFiles.DEFINED) {
            byte[] built = bytes(BridgeFiles.DIR + c);
            assertEquals(text(ClassRenamer.rename(bytes(c), NAMES)), text(built), c + ": the build's copy is stale");
            assertEquals(text(built), text(BridgeInstaller.defined(c)), c + ": the agent reads the build's copy");
        }
    }
}
