package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.Handle;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.util.CheckClassAdapter;

class CallSiteRewriterTest {
    private static byte[] bytes(String internalName) throws Exception {
        try (InputStream in = CallSiteRewriterTest.class.getResourceAsStream("/" + internalName + ".class")) {
            return in.readAllBytes();
        }
    }

    private static Route route(String calls) {
        AgentConfig c = ConfigParser.parse("t.properties", List.of("pool.p.size=64m", "route.r.include=sample.rewrite",
                "route.r.pool=p", "route.r.calls=" + calls));
        return new Route(c.routes().get(0), null);
    }

    /** Every invocation and handle in the class, as "owner.name desc". */
    private static List<String> calls(byte[] bytes) {
        List<String> out = new ArrayList<>();
        new ClassReader(bytes).accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature, String[] exceptions) {
                return new MethodVisitor(Opcodes.ASM9) {
                    @Override
                    public void visitMethodInsn(int opcode, String owner, String n, String d, boolean itf) {
                        out.add(owner + "." + n + " " + d);
                    }

                    @Override
                    public void visitInvokeDynamicInsn(String n, String d, Handle bsm, Object... args) {
                        for (Object a : args) {
                            if (a instanceof Handle h) {
                                out.add("handle " + h.getOwner() + "." + h.getName() + " " + h.getDesc());
                            }
                        }
                    }
                };
            }
        }, 0);
        return out;
    }

    private static void assertVerifies(byte[] bytes) {
        StringWriter sw = new StringWriter();
        CheckClassAdapter.verify(new ClassReader(bytes), CallSiteRewriterTest.class.getClassLoader(), false, new PrintWriter(sw));
        assertEquals("", sw.toString(), "CheckClassAdapter found problems");
    }

    @Test
    void routedClassHasEveryAllocationShapeRedirected() throws Exception {
        Sites sites = new Sites();
        byte[] out = CallSiteRewriter.rewrite(bytes("sample/rewrite/Shapes"), route("allocateDirect,allocateMemory"), sites::register);
        assertNotNull(out);
        List<String> calls = calls(out);
        assertTrue(calls.stream().noneMatch(c -> c.startsWith("java/nio/ByteBuffer.allocateDirect")), calls.toString());
        assertTrue(calls.stream().noneMatch(c -> c.contains("sun/misc/Unsafe.") && !c.contains("invokeCleaner")), calls.toString());
        // static initializer, constructor, direct call, through MappedByteBuffer, lambda body
        assertEquals(5, calls.stream().filter(c -> c.equals("java/nio/JvmemBridge.allocateDirect (II)Ljava/nio/ByteBuffer;")).count());
        assertTrue(calls.contains("handle java/nio/JvmemBridge.allocateDirectBound (II)Ljava/nio/ByteBuffer;"));
        assertTrue(calls.contains("handle java/nio/JvmemBridge.allocateMemoryBound (Lsun/misc/Unsafe;IJ)J"));
        assertTrue(calls.contains("handle java/nio/JvmemBridge.allocateMemoryUnbound (ILsun/misc/Unsafe;J)J"));
        assertTrue(calls.contains("java/nio/JvmemBridge.allocateMemory (Lsun/misc/Unsafe;JI)J"));
        assertTrue(calls.contains("java/nio/JvmemBridge.reallocateMemory (Lsun/misc/Unsafe;JJI)J"));
        assertTrue(calls.contains("java/nio/JvmemBridge.freeMemory (Lsun/misc/Unsafe;J)V"));
        assertTrue(calls.contains("handle java/nio/JvmemBridge.freeMemory (Lsun/misc/Unsafe;J)V"));
        assertTrue(calls.contains("sun/misc/Unsafe.invokeCleaner (Ljava/nio/ByteBuffer;)V"), "the JDK's cleaner releases pool buffers");
        assertVerifies(out);
    }

    @Test
    void sitesAreNamedByClassMethodFileAndLine() throws Exception {
        Sites sites = new Sites();
        CallSiteRewriter.rewrite(bytes("sample/rewrite/Shapes"), route("allocateDirect"), sites::register);
        List<String> names = sites.all().stream().map(s -> s.call + " " + s.name).toList();
        assertTrue(names.contains("allocateDirect sample.rewrite.Shapes.<clinit>(Shapes.java:16)"), names.toString());
        assertTrue(names.contains("allocateDirect sample.rewrite.Shapes.<init>(Shapes.java:20)"), names.toString());
        assertTrue(names.contains("allocateDirect sample.rewrite.Shapes.direct(Shapes.java:24)"), names.toString());
    }

    @Test
    void routeLimitedToAllocateDirectLeavesAllocateMemoryButMakesFreesPoolAware() throws Exception {
        byte[] out = CallSiteRewriter.rewrite(bytes("sample/rewrite/Shapes"), route("allocateDirect"), new Sites()::register);
        List<String> calls = calls(out);
        assertTrue(calls.contains("sun/misc/Unsafe.allocateMemory (J)J"));
        assertTrue(calls.contains("java/nio/JvmemBridge.reallocateMemory (Lsun/misc/Unsafe;JJ)J"));
        assertTrue(calls.contains("java/nio/JvmemBridge.freeMemory (Lsun/misc/Unsafe;J)V"));
        assertVerifies(out);
    }

    @Test
    void unroutedClassKeepsAllocationsButFreesArePoolAware() throws Exception {
        byte[] out = CallSiteRewriter.rewrite(bytes("sample/rewrite/Shapes"), null, new Sites()::register);
        List<String> calls = calls(out);
        assertEquals(4, calls.stream().filter(c -> c.equals("java/nio/ByteBuffer.allocateDirect (I)Ljava/nio/ByteBuffer;")).count());
        assertTrue(calls.contains("java/nio/MappedByteBuffer.allocateDirect (I)Ljava/nio/ByteBuffer;"));
        assertTrue(calls.contains("handle java/nio/ByteBuffer.allocateDirect (I)Ljava/nio/ByteBuffer;"));
        assertTrue(calls.contains("sun/misc/Unsafe.allocateMemory (J)J"));
        assertTrue(calls.contains("java/nio/JvmemBridge.freeMemory (Lsun/misc/Unsafe;J)V"));
        assertTrue(calls.contains("handle java/nio/JvmemBridge.freeMemory (Lsun/misc/Unsafe;J)V"));
        assertVerifies(out);
    }

    @Test
    void classWithoutTargetsIsLeftByteIdentical() throws Exception {
        assertNull(CallSiteRewriter.rewrite(bytes("sample/rewrite/Plain"), route("allocateDirect,allocateMemory"), new Sites()::register));
    }

    private static byte[] jdkClass(String internalName) throws Exception {
        return java.nio.file.Files.readAllBytes(java.nio.file.FileSystems.getFileSystem(java.net.URI.create("jrt:/"))
                .getPath("/modules/java.base/" + internalName + ".class"));
    }

    /** Every java.* class of java.base goes through the rewriter without error (the transformer never gives it any). */
    @Test
    void everyClassOfTheJdkModuleParsesWithoutError() throws Exception {
        java.nio.file.FileSystem jrt = java.nio.file.FileSystems.getFileSystem(java.net.URI.create("jrt:/"));
        int parsed = 0;
        try (var files = java.nio.file.Files.walk(jrt.getPath("/modules/java.base/java"))) {
            for (java.nio.file.Path p : (Iterable<java.nio.file.Path>) files.filter(f -> f.toString().endsWith(".class"))::iterator) {
                byte[] out = CallSiteRewriter.rewrite(java.nio.file.Files.readAllBytes(p), route("allocateDirect,allocateMemory"),
                        new Sites()::register);
                if (out != null) {
                    new ClassReader(out).accept(new ClassVisitor(Opcodes.ASM9) { }, 0);
                }
                parsed++;
            }
        }
        assertTrue(parsed > 1000, "parsed " + parsed);
    }

    /** Code given --add-exports java.base/jdk.internal.misc (Agrona's UnsafeApi) calls the Unsafe behind sun.misc's. */
    @Test
    void jdkInternalUnsafeCallsAreRedirectedLikeSunMiscUnsafe() throws Exception {
        // The JDK's own direct buffers are the handiest class files calling jdk.internal.misc.Unsafe.
        List<String> routed = calls(CallSiteRewriter.rewrite(jdkClass("java/nio/DirectByteBuffer"), route("allocateMemory"),
                new Sites()::register));
        assertTrue(routed.contains("java/nio/JvmemBridge.allocateMemory (Ljdk/internal/misc/Unsafe;JI)J"), routed.toString());
        assertTrue(routed.stream().noneMatch(c -> c.startsWith("jdk/internal/misc/Unsafe.allocateMemory")), routed.toString());
        List<String> unrouted = calls(CallSiteRewriter.rewrite(jdkClass("java/nio/DirectByteBuffer$Deallocator"), null,
                new Sites()::register));
        assertTrue(unrouted.contains("java/nio/JvmemBridge.freeMemory (Ljdk/internal/misc/Unsafe;J)V"), unrouted.toString());
    }

    @Test
    void transformerNeverTouchesJdkOrAgentClasses() throws Exception {
        AgentTransformer t = new AgentTransformer(new RouteTable(List.of(route("allocateDirect"))), new Sites(), new AgentLog(AgentConfig.LogLevel.QUIET));
        byte[] shapes = bytes("sample/rewrite/Shapes");
        assertNull(t.transform(null, null, "sample/rewrite/Shapes", null, null, shapes), "boot loader");
        assertNull(t.transform(null, ClassLoader.getPlatformClassLoader(), "sample/rewrite/Shapes", null, null, shapes), "platform loader");
        assertNull(t.transform(null, getClass().getClassLoader(), "io/jvmem/agent/X", null, null, shapes), "agent");
        assertNotNull(t.transform(null, getClass().getClassLoader(), "sample/rewrite/Shapes", null, null, shapes));
    }

    @Test
    void malformedClassIsReportedAndLoadsUnmodified() {
        AgentTransformer t = new AgentTransformer(new RouteTable(List.of(route("allocateDirect"))), new Sites(), new AgentLog(AgentConfig.LogLevel.QUIET));
        assertNull(t.transform(null, getClass().getClassLoader(), "sample/rewrite/Broken", null, null, new byte[] {(byte) 0xca, (byte) 0xfe, 1, 2}));
        assertEquals(1, t.failed.sum());
    }
}
