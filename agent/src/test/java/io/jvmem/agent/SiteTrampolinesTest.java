package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.util.CheckClassAdapter;

/** The trampolines' class files, checked without the agent (the bridge that defines them exists only under it). */
@org.junit.jupiter.api.Tag("unit")
class SiteTrampolinesTest {
    /** Records each class file and refuses it, as a definer outside the agent must. */
    private static final class Recorder implements SiteTrampolines.Definer {
        final List<byte[]> files = new ArrayList<>();

        @Override
        public Class<?> define(byte[] classFile) {
            files.add(classFile);
            throw new UnsupportedOperationException("recorded");
        }
    }

    private static void assertChecks(byte[] bytes) {
        StringWriter sw = new StringWriter();
        CheckClassAdapter.verify(new ClassReader(bytes), SiteTrampolinesTest.class.getClassLoader(), false, new PrintWriter(sw));
        assertEquals("", sw.toString(), "CheckClassAdapter found problems");
    }

    @Test
    @Timeout(10)
    void everyTrampolineShapePassesCheckClassAdapter() {
        Recorder r = new Recorder();
        SiteTrampolines t = new SiteTrampolines(r);
        String bridge = Intercepts.BRIDGE;
        assertThrows(IllegalStateException.class, () -> t.staticWithSite(MethodType.methodType(ByteBuffer.class, int.class),
                "allocateDirect", bridge, "allocateDirect", MethodType.methodType(ByteBuffer.class, int.class, int.class), 7));
        assertThrows(IllegalStateException.class, () -> t.staticWithSite(
                MethodType.methodType(long.class, sun.misc.Unsafe.class, long.class, long.class), "reallocateMemory", bridge,
                "reallocateMemory", MethodType.methodType(long.class, sun.misc.Unsafe.class, long.class, long.class, int.class), 7));
        assertThrows(IllegalStateException.class, () -> t.staticWithSite(
                MethodType.methodType(MemorySegment.class, Arena.class, long.class, long.class), "allocate", bridge, "arenaAllocate",
                MethodType.methodType(MemorySegment.class, SegmentAllocator.class, long.class, long.class, int.class), 7));
        assertThrows(IllegalStateException.class, () -> t.filteredReceiver(
                MethodType.methodType(MemorySegment.class, Arena.class, ValueLayout.OfLong.class, long.class), bridge,
                "routeArena", Arena.class, "allocateFrom", 7, false));
        assertEquals(4, r.files.size());
        for (byte[] f : r.files) {
            assertChecks(f);
        }
    }

    @Test
    @Timeout(10)
    void aFailedDefinitionIsAnIllegalStateExceptionNamingTheMember() {
        SiteTrampolines t = new SiteTrampolines(new Recorder());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.staticWithSite(
                MethodType.methodType(ByteBuffer.class, int.class), "allocateDirect", Intercepts.BRIDGE, "allocateDirect",
                MethodType.methodType(ByteBuffer.class, int.class, int.class), 3));
        assertEquals("jvmem: could not define the trampoline of allocateDirect(int)ByteBuffer", e.getMessage());
    }
}
