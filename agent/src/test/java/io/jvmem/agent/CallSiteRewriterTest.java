package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.Handle;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.util.CheckClassAdapter;

@org.junit.jupiter.api.Tag("unit")
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

    // The reach: arenas, run-time handles, Method.invoke, downcalls, hidden classes, handle constants

    private static final String EVERY_SHAPE = "sample/reach/EveryShape";
    private static final String ALL_CALLS = "allocateDirect,allocateMemory,arena,downcall";
    private static final String LOOKUP = "java/lang/invoke/MethodHandles$Lookup.";
    private static final List<String> LOOKUPS = List.of("findStatic", "findVirtual", "findSpecial", "bind", "unreflect",
            "unreflectSpecial", "defineHiddenClass", "defineHiddenClassWithClassData");

    /** Invocations, invokedynamic sites and handle constants, in order, as "owner.name desc" / "indy name desc" / "ldc ...". */
    private static List<String> instructions(byte[] bytes) {
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
                        out.add("indy " + n + " " + d);
                    }

                    @Override
                    public void visitLdcInsn(Object value) {
                        if (value instanceof Handle h) {
                            out.add("ldc " + h.getOwner() + "." + h.getName() + " " + h.getDesc());
                        }
                    }
                };
            }
        }, 0);
        return out;
    }

    /** A registrar that records the unroutable shapes it is told of. */
    private record Recorder(Sites sites, List<String> unrouted) implements CallSiteRewriter.SiteRegistrar {
        Recorder() {
            this(new Sites(), new ArrayList<>());
        }

        @Override
        public int register(String siteName, String call, Route route) {
            return sites.register(siteName, call, route);
        }

        @Override
        public void unrouted(String className, String way, Route route) {
            unrouted.add(className + ": " + way);
        }
    }

    private static boolean isArenaAllocation(String insn) {
        return insn.startsWith("java/lang/foreign/Arena.allocate") || insn.startsWith("java/lang/foreign/SegmentAllocator.allocate");
    }

    /** Rewritten in every class: lookups, Method.invoke and downcallHandle pass the bridge; the originals stay where caller-sensitive. */
    private static void assertReflectiveShapesPassTheBridge(List<String> code) {
        for (String name : LOOKUPS) {
            assertTrue(code.stream().noneMatch(c -> c.startsWith(LOOKUP + name + " ")), name + " left: " + code);
            assertTrue(code.stream().anyMatch(c -> c.startsWith("java/nio/JvmemReflect." + name + " (Ljava/lang/invoke/MethodHandles$Lookup;")
                    && c.contains("I)")), name + " not redirected: " + code);
        }
        int invoke = code.indexOf("java/lang/reflect/Method.invoke (Ljava/lang/Object;[Ljava/lang/Object;)Ljava/lang/Object;");
        assertTrue(invoke >= 2, code.toString());
        assertTrue(code.get(invoke - 2).startsWith("java/nio/JvmemReflect.invokeTarget "), code.get(invoke - 2));
        assertTrue(code.get(invoke - 1).startsWith("java/nio/JvmemReflect.invokeReceiver "), code.get(invoke - 1));
        List<String> forms = new ArrayList<>();
        for (int i = 0; i < code.size(); i++) {
            if (code.get(i).startsWith("java/lang/foreign/Linker.downcallHandle ")) {
                forms.add(code.get(i));
                assertTrue(code.get(i + 1).startsWith("java/nio/JvmemReflect.downcall (Ljava/lang/invoke/MethodHandle;"), code.get(i + 1));
            }
        }
        assertEquals(2, forms.size(), "both forms of downcallHandle: " + forms);
    }

    @Test
    @Timeout(30)
    void everyReachShapeInASelectedClassPassesTheBridgeAndVerifies() throws Exception {
        Recorder r = new Recorder();
        byte[] out = CallSiteRewriter.rewrite(bytes(EVERY_SHAPE), route(ALL_CALLS), r);
        assertNotNull(out);
        assertVerifies(out);
        List<String> code = instructions(out);
        int arenaCalls = 0;
        for (int i = 0; i < code.size(); i++) {
            if (isArenaAllocation(code.get(i))) {
                arenaCalls++;
                String owner = code.get(i).substring(0, code.get(i).indexOf('.'));
                String filter = owner.endsWith("Arena") ? "routeArena (Ljava/lang/foreign/Arena;I)Ljava/lang/foreign/Arena;"
                        : "routeAllocator (Ljava/lang/foreign/SegmentAllocator;I)Ljava/lang/foreign/SegmentAllocator;";
                assertEquals("java/nio/JvmemBridge." + filter, code.get(i - 1), "receiver of " + code.get(i));
            }
        }
        long staticCalls = code.stream().filter(c -> c.startsWith("java/nio/JvmemBridge.arenaAllocate (Ljava/lang/foreign/SegmentAllocator;")).count();
        assertEquals(3, arenaCalls, "allocateFrom x3 (one varargs) keep their call behind a routing receiver: " + code);
        assertEquals(5, staticCalls, "allocate(size), allocate(size, align), allocate(layout), allocate(layout, n) and "
                + "SegmentAllocator.allocate become static bridge calls: " + code);
        int bound = code.indexOf("indy apply (Ljava/lang/foreign/Arena;)Ljava/util/function/LongFunction;");
        assertTrue(code.get(bound - 1).startsWith("java/nio/JvmemBridge.routeAllocator "), "arena::allocate's receiver: " + code.get(bound - 1));
        assertReflectiveShapesPassTheBridge(code);
        assertEquals(1, r.unrouted().size(), r.unrouted().toString());
        assertTrue(r.unrouted().get(0).startsWith("sample.reach.EveryShape: unbound method reference "
                + "java.lang.foreign.SegmentAllocator::allocate at sample.reach.EveryShape.run(EveryShape.java:"), r.unrouted().get(0));
    }

    @Test
    @Timeout(30)
    void aSelectedClassRegistersItsArenaCallsAsSitesAndItsLookupsAndDowncallHandlesAsIndirectOnes() throws Exception {
        Recorder r = new Recorder();
        CallSiteRewriter.rewrite(bytes(EVERY_SHAPE), route(ALL_CALLS), r);
        java.util.Map<String, Long> calls = r.sites().all().stream()
                .collect(java.util.stream.Collectors.groupingBy(site -> site.call, java.util.stream.Collectors.counting()));
        assertEquals(9L, calls.get("arena"), "8 calls and arena::allocate: " + calls);
        // what a handle reaches is known when it is made: its allocation site is derived then (HandleRoutes.derive)
        assertEquals(LOOKUPS.size() + 2L + 2L, calls.get("handle"), "every lookup, two findStatic more, two downcallHandle: " + calls);
        assertEquals(1L, calls.get("reflect"), "Method.invoke, one site for its method and receiver: " + calls);
        assertEquals(3, calls.size(), calls.toString());
        assertTrue(r.sites().all().stream().filter(site -> !site.call.equals("arena")).allMatch(Site::indirect),
                "lookups, downcallHandle and Method.invoke are not allocation sites themselves");
    }

    @Test
    @Timeout(30)
    void everyReachShapeInAnUnselectedClassKeepsItsAllocationsAndVerifies() throws Exception {
        Recorder r = new Recorder();
        byte[] original = bytes(EVERY_SHAPE);
        byte[] out = CallSiteRewriter.rewrite(original, null, r);
        assertNotNull(out, "lookups, Method.invoke and downcall handles are made pool-aware in every class");
        assertVerifies(out);
        List<String> code = instructions(out);
        assertTrue(code.stream().noneMatch(c -> c.contains("routeArena") || c.contains("routeAllocator")), code.toString());
        assertEquals(instructions(original).stream().filter(CallSiteRewriterTest::isArenaAllocation).toList(),
                code.stream().filter(CallSiteRewriterTest::isArenaAllocation).toList());
        assertReflectiveShapesPassTheBridge(code);
        assertEquals(List.of(), r.unrouted(), "nothing is reported outside routes");
        assertEquals(List.of(), r.sites().all(), "no sites outside routes");
    }

    @Test
    @Timeout(30)
    void aSerializablePoolAwareReferenceMakesDeserializeLambdaRestoreItsSourceMemberFirstAndVerifies() throws Exception {
        byte[] out = CallSiteRewriter.rewrite(bytes("sample/reach/SerialFree"), null, new Recorder());
        assertNotNull(out, "Unsafe::freeMemory is made pool-aware in every class");
        assertVerifies(out);
        List<String> deserialize = instructionsOf(out, "$deserializeLambda$");
        assertEquals(CallSiteRewriter.BRIDGE + ".restoreLambda (Ljava/lang/invoke/SerializedLambda;Ljava/lang/Class;)"
                + "Ljava/lang/invoke/SerializedLambda;", deserialize.get(0), deserialize.toString());
        assertEquals(1, deserialize.stream().filter(c -> c.contains("restoreLambda")).count(), "once, first");
    }

    @Test
    @Timeout(30)
    void aClassWhoseSerializableLambdasNameNoPoolAwareMemberKeepsItsDeserializeLambda() throws Exception {
        byte[] original = bytes("sample/reach/SerialOther");
        byte[] out = CallSiteRewriter.rewrite(original, null, new Recorder());
        assertNotNull(out, "its non-serializable Unsafe::freeMemory is made pool-aware");
        assertVerifies(out);
        assertEquals(instructionsOf(original, "$deserializeLambda$"), instructionsOf(out, "$deserializeLambda$"));
    }

    /** The calls of one method, in order, as "owner.name desc". */
    private static List<String> instructionsOf(byte[] bytes, String method) {
        List<String> out = new ArrayList<>();
        new ClassReader(bytes).accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature, String[] exceptions) {
                return !name.equals(method) ? null : new MethodVisitor(Opcodes.ASM9) {
                    @Override
                    public void visitMethodInsn(int opcode, String owner, String n, String d, boolean itf) {
                        out.add(owner + "." + n + " " + d);
                    }
                };
            }
        }, 0);
        assertFalse(out.isEmpty(), "no " + method);
        return out;
    }

    @Test
    @Timeout(30)
    void anUnselectedClassWhoseOnlyOffHeapCallsAreAllocationsStaysByteIdentical() throws Exception {
        assertNull(CallSiteRewriter.rewrite(bytes("sample/reach/SegmentCalls"), null, new Recorder()), "arena calls");
        assertNull(CallSiteRewriter.rewrite(bytes("sample/reach/UserArena"), null, new Recorder()), "an arena of its own");
        assertNotNull(CallSiteRewriter.rewrite(bytes("sample/reach/SegmentCalls"), route(ALL_CALLS), new Recorder()), "selected");
    }

    @Test
    @Timeout(30)
    void aClassWhoseOnlyMatchesAreUnrelatedMethodsOfTheSameNamesStaysByteIdentical() throws Exception {
        byte[] b = bytes("sample/rewrite/NearMisses");
        // the cheap scan lets it through (an intercepted owner and name are both there), so the full rewrite runs
        assertTrue(CallSiteRewriter.mentionsTargets(new ClassReader(b), b));
        assertNull(CallSiteRewriter.rewrite(b, route(ALL_CALLS), new Recorder()), "selected");
        assertNull(CallSiteRewriter.rewrite(b, null, new Recorder()), "not selected");
    }

    @Test
    @Timeout(30)
    void handleConstantsAreRoutedInASelectedClassAndFreesArePoolAwareInEveryClass() throws Exception {
        byte[] original = ReachWays.constantsClass("sample/rewrite/");
        byte[] routed = CallSiteRewriter.rewrite(original, route(ALL_CALLS), new Recorder());
        byte[] unrouted = CallSiteRewriter.rewrite(original, null, new Recorder());
        assertVerifies(routed);
        assertVerifies(unrouted);
        String poolAwareFree = "ldc java/nio/JvmemBridge.freeMemory (Lsun/misc/Unsafe;J)V";
        String constant = "java/nio/JvmemReflect.constant (Ljava/lang/invoke/MethodHandle;II)Ljava/lang/invoke/MethodHandle;";
        List<String> r = instructions(routed);
        List<String> u = instructions(unrouted);
        assertTrue(r.contains(poolAwareFree) && u.contains(poolAwareFree), r + " / " + u);
        assertFalse(r.contains("ldc sun/misc/Unsafe.freeMemory (J)V") || u.contains("ldc sun/misc/Unsafe.freeMemory (J)V"));
        for (String ldc : List.of("ldc java/nio/ByteBuffer.allocateDirect (I)Ljava/nio/ByteBuffer;",
                "ldc sun/misc/Unsafe.allocateMemory (J)J", "ldc java/lang/foreign/Arena.allocate (J)Ljava/lang/foreign/MemorySegment;")) {
            assertEquals(constant, r.get(r.indexOf(ldc) + 1), "routed where selected: " + ldc);
            assertFalse(u.get(u.indexOf(ldc) + 1).equals(constant), "left alone where not: " + ldc);
        }
    }

    /** A selected class with one dynamic constant (bootstrap arguments {@code args}) and an allocateDirect call. */
    private static byte[] classWithDynamicConstant(Object... args) {
        org.objectweb.asm.ClassWriter cw = new org.objectweb.asm.ClassWriter(org.objectweb.asm.ClassWriter.COMPUTE_MAXS);
        cw.visit(Opcodes.V22, Opcodes.ACC_PUBLIC, "sample/rewrite/Condy", null, "java/lang/Object", null);
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "run", "()V", null, null);
        mv.visitCode();
        mv.visitLdcInsn(new org.objectweb.asm.ConstantDynamic("c", "Ljava/lang/Object;", new Handle(Opcodes.H_INVOKESTATIC,
                "java/lang/invoke/ConstantBootstraps", "invoke", "(Ljava/lang/invoke/MethodHandles$Lookup;Ljava/lang/String;"
                + "Ljava/lang/Class;Ljava/lang/invoke/MethodHandle;[Ljava/lang/Object;)Ljava/lang/Object;", false), args));
        mv.visitInsn(Opcodes.POP);
        mv.visitIntInsn(Opcodes.BIPUSH, 8);
        mv.visitMethodInsn(Opcodes.INVOKESTATIC, "java/nio/ByteBuffer", "allocateDirect", "(I)Ljava/nio/ByteBuffer;", false);
        mv.visitInsn(Opcodes.POP);
        mv.visitInsn(Opcodes.RETURN);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        cw.visitEnd();
        return cw.toByteArray();
    }

    private static List<String> unroutedOf(byte[] bytes) {
        List<String> unrouted = new ArrayList<>();
        Sites sites = new Sites();
        CallSiteRewriter.rewrite(bytes, route("allocateDirect"), new CallSiteRewriter.SiteRegistrar() {
            @Override
            public int register(String siteName, String call, Route route) {
                return sites.register(siteName, call, route);
            }

            @Override
            public void unrouted(String className, String way, Route route) {
                unrouted.add(way);
            }
        });
        return unrouted;
    }

    @Test
    @Timeout(10)
    void aDynamicConstantThatNamesAnAllocationMemberIsReportedAsUnrouted() {
        List<String> unrouted = unroutedOf(classWithDynamicConstant(new Handle(Opcodes.H_INVOKESTATIC, "java/nio/ByteBuffer",
                "allocateDirect", "(I)Ljava/nio/ByteBuffer;", false), 8));
        assertEquals(1, unrouted.size(), unrouted.toString());
        assertTrue(unrouted.get(0).startsWith("dynamic constant to java.nio.ByteBuffer.allocateDirect at "), unrouted.get(0));
    }

    @Test
    @Timeout(10)
    void aDynamicConstantThatNamesNoAllocationMemberIsNotReported() {
        // a coverage tool's or a compiler's constant reaches no off-heap memory
        assertEquals(List.of(), unroutedOf(classWithDynamicConstant(new Handle(Opcodes.H_INVOKESTATIC, "java/lang/Integer",
                "valueOf", "(I)Ljava/lang/Integer;", false), 8)));
    }
    /**
     * A selected class implementing Arena that names the interface's default {@code allocate(long)} by an
     * {@code invokespecial} handle (a constant, and a method reference capturing {@code this}): javac never writes them,
     * bytecode generators may. Such a handle runs the default on the program's own object, as {@code findSpecial}
     * does, which the agent leaves alone; routed it dispatched virtually, and the reference's captured receiver became
     * an {@code Arena} the reference's type refuses.
     */
    private static byte[] classWithSuperHandles() {
        org.objectweb.asm.ClassWriter cw = new org.objectweb.asm.ClassWriter(org.objectweb.asm.ClassWriter.COMPUTE_MAXS);
        String self = "sample/rewrite/SuperHandles";
        cw.visit(Opcodes.V22, Opcodes.ACC_PUBLIC | Opcodes.ACC_ABSTRACT, self, null, "java/lang/Object",
                new String[] {"java/lang/foreign/Arena"});
        Handle special = new Handle(Opcodes.H_INVOKESPECIAL, "java/lang/foreign/Arena", "allocate",
                "(J)Ljava/lang/foreign/MemorySegment;", true);
        MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC, "handles", "()V", null, null);
        mv.visitCode();
        mv.visitLdcInsn(special);
        mv.visitInsn(Opcodes.POP);
        mv.visitVarInsn(Opcodes.ALOAD, 0);
        mv.visitInvokeDynamicInsn("apply", "(L" + self + ";)Ljava/util/function/LongFunction;", new Handle(Opcodes.H_INVOKESTATIC,
                "java/lang/invoke/LambdaMetafactory", "metafactory", "(Ljava/lang/invoke/MethodHandles$Lookup;Ljava/lang/String;"
                + "Ljava/lang/invoke/MethodType;Ljava/lang/invoke/MethodType;Ljava/lang/invoke/MethodHandle;"
                + "Ljava/lang/invoke/MethodType;)Ljava/lang/invoke/CallSite;", false),
                org.objectweb.asm.Type.getType("(J)Ljava/lang/Object;"), special,
                org.objectweb.asm.Type.getType("(J)Ljava/lang/foreign/MemorySegment;"));
        mv.visitInsn(Opcodes.POP);
        mv.visitInsn(Opcodes.RETURN);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        cw.visitEnd();
        return cw.toByteArray();
    }

    @Test
    @Timeout(10)
    void invokespecialHandlesToTheArenaDefaultsInASelectedClassAreLeftAloneAndVerify() {
        byte[] original = classWithSuperHandles();
        byte[] out = CallSiteRewriter.rewrite(original, route(ALL_CALLS), new Recorder());
        byte[] loaded = out != null ? out : original;
        List<String> code = instructions(loaded);
        assertFalse(code.stream().anyMatch(c -> c.contains("JvmemReflect.constant") || c.contains("JvmemBridge.route")),
                code.toString());
        // the JVM's own verifier, at link time (ASM's needs the class on its loader's path)
        ClassLoader loader = new ClassLoader(CallSiteRewriterTest.class.getClassLoader()) {
            @Override
            protected Class<?> findClass(String name) throws ClassNotFoundException {
                if (!name.equals("sample.rewrite.SuperHandles")) {
                    throw new ClassNotFoundException(name);
                }
                return defineClass(name, loaded, 0, loaded.length);
            }
        };
        assertDoesNotThrow(() -> Class.forName("sample.rewrite.SuperHandles", true, loader));
    }
}
