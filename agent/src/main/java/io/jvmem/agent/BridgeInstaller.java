package io.jvmem.agent;

import io.jvmem.allocator.MemoryPool;
import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandles;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Puts the bridge where every class loader sees it: the classes of {@code io.jvmem.agent.bridge} are renamed into
 * {@code java.nio} and defined in java.base by {@link JavaNioDefiner}, the only code java.nio is opened to
 * (java.base is also made to read jdk.unsupported, for the bridge's {@code sun.misc.Unsafe} parameters). Being
 * in java.nio, the bridge calls the JDK's package-private mapped-buffer constructor directly: no reflection, no
 * method handle, and the JDK's own cleaner. The agent's own classes are on the boot class path through the jar's
 * manifest ({@link AgentJar}), but that does not make java.nio reachable: the bridge still has to be defined in it.
 */
final class BridgeInstaller {
    static final String HOOKS = "java/nio/JvmemHooks";
    static final String BRIDGE = CallSiteRewriter.BRIDGE;
    private static final String SOURCE = "io/jvmem/agent/bridge/";
    /** The JDK's wait for reference processing, defined in java.nio next to the bridge (see {@link ReferenceProcessing}). */
    private static final String REFWAIT = "io/jvmem/agent/refwait/";
    /** The agent's classes that are defined in java.base at run time, and the names they get there. */
    static final Map<String, String> NAMES = new java.util.LinkedHashMap<>();

    static {
        String[] names = {
                SOURCE + "Hooks", HOOKS,
                SOURCE + "Bridge", BRIDGE,
                SOURCE + "Release", "java/nio/JvmemRelease",
                SOURCE + "SessionRelease", "java/nio/JvmemSessionRelease",
                SOURCE + "RoutedArena", "java/nio/JvmemArena",
                SOURCE + "Invocation", "java/nio/JvmemInvocation",
                SOURCE + "Reflect", Intercepts.REFLECT,
                SOURCE + "Downcalls", "java/nio/JvmemDowncalls",
                SOURCE + "DirectBufferStub", "java/nio/DirectByteBuffer",
                SOURCE + "InternalUnsafeStub", "jdk/internal/misc/Unsafe",
                SOURCE + "SessionStub", "jdk/internal/foreign/MemorySessionImpl",
                SOURCE + "ResourceCleanupStub", "jdk/internal/foreign/MemorySessionImpl$ResourceList$ResourceCleanup",
                SOURCE + "ForceInlineStub", "jdk/internal/vm/annotation/ForceInline",
                SOURCE + "DontInlineStub", "jdk/internal/vm/annotation/DontInline",
                REFWAIT + "WaitForReferenceProcessing", "java/nio/JvmemReferenceProcessing",
                REFWAIT + "SharedSecretsStub", "jdk/internal/access/SharedSecrets",
                REFWAIT + "JavaLangRefAccessStub", "jdk/internal/access/JavaLangRefAccess",
        };
        for (int i = 0; i < names.length; i += 2) {
            NAMES.put(names[i], names[i + 1]);
        }
    }

    private BridgeInstaller() {
    }

    /** Whether a bridge is already defined in this JVM (the agent was loaded before). */
    static boolean installed() {
        try {
            Class.forName(BRIDGE.replace('/', '.'), false, null);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** The bridge and hooks classes, defined but not yet connected. */
    /** {@code sessionCleanup}: whether the routed arenas' session cleanup ({@code SessionRelease}) could be defined. */
    record Defined(Class<?> bridge, Class<?> impl, ReferenceProcessing references, boolean sessionCleanup) {
    }

    /**
     * The bridge this copy of the agent defined. A class is defined once per JVM, so a start that failed after defining
     * it (a pool that could not be opened at late attach) leaves it here, unconnected, for the next start to use.
     */
    private static Defined defined;

    /**
     * Whether a bridge is defined in this JVM that this copy of the agent did not define: another copy (another jar,
     * or the same jar through another class loader) is running or failed to start, and this one cannot connect it.
     */
    static synchronized boolean installedByAnother() {
        return defined == null && installed();
    }

    /**
     * Defines the bridge in java.base and the hooks class next to the agent (before the pools exist); the bridge this
     * copy defined before, if an earlier start failed after defining it.
     */
    static synchronized Defined define(Instrumentation inst) throws Exception {
        if (defined == null) {
            defined = defineOnce(inst);
        }
        return defined;
    }

    private static Defined defineOnce(Instrumentation inst) throws Exception {
        Function<byte[], Class<?>> nio = JavaNioDefiner.open(inst, unsupportedModule());
        nio.apply(remapped(SOURCE + "Hooks"));
        nio.apply(remapped(SOURCE + "Release"));
        boolean sessionCleanup = true;
        try {
            nio.apply(remapped(SOURCE + "SessionRelease")); // RoutedArena checks that it works (SessionRelease.works)
        } catch (LinkageError e) {
            sessionCleanup = false; // a JDK without the session classes it extends
        }
        Class<?> bridge = nio.apply(remapped(SOURCE + "Bridge"));
        for (String c : new String[] {"RoutedArena", "Invocation", "Reflect", "Downcalls"}) {
            nio.apply(remapped(SOURCE + c));
        }
        Class<?> impl = MethodHandles.lookup().defineClass(remapped("io/jvmem/agent/HooksImpl"));
        return new Defined(bridge, impl, ReferenceProcessing.define(nio, remapped(REFWAIT + "WaitForReferenceProcessing")),
                sessionCleanup);
    }

    /** jdk.unsupported (sun.misc.Unsafe's module), found without loading sun.misc.Unsafe, which a program may never use. */
    private static Set<Module> unsupportedModule() {
        Module m = ModuleLayer.boot().findModule("jdk.unsupported").orElse(null); // no lambda: its bootstrap costs start-up
        return m == null ? Set.of() : Set.of(m);
    }

    /** Creates the hooks over the pools and hands them to the bridge; returns the hooks. */
    static HooksAccess connect(Defined d, Sites sites, MemoryPool[] pools, java.util.Set<Long>[] transients, AgentLog log,
                               AgentTransformer transformer) {
        if (!d.sessionCleanup()) {
            log.info("this JDK's arena sessions differ from JDK 22-25's: routed arena segments hand their cleanup to the "
                    + "JDK through MemorySegment.reinterpret (same lifetime, two more objects per segment)");
        }
        if (!d.references().available()) {
            log.info("the JDK's wait for reference processing is not reachable: a full pool waits with sleeps only");
        }
        boolean viaConstructor = hasMappedBufferConstructor();
        if (!viaConstructor) {
            log.warn("java.nio.DirectByteBuffer has no mapped-buffer constructor in this JDK: pool buffers are FFM views "
                    + "released only when collected");
        }
        // a direct call, resolved now that the renamed HooksImpl is defined (reflection here cost ~25 generated classes)
        Object hooks = HooksImpl.connect(sites, pools, transients, log, d.references(), transformer, viaConstructor);
        return new HooksAccess(hooks);
    }

    static boolean hasMappedBufferConstructor() {
        try {
            Class.forName("java.nio.DirectByteBuffer").getDeclaredConstructor(int.class, long.class, FileDescriptor.class,
                    Runnable.class, boolean.class, MemorySegment.class);
            return true;
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }

    private static byte[] remapped(String internalName) throws IOException {
        return defined(internalName);
    }

    /**
     * One of the classes defined at run time, renamed: as the build wrote it ({@link BridgeFiles}), or renamed here
     * when the agent runs from classes compiled without that step.
     */
    static byte[] defined(String internalName) throws IOException {
        byte[] b = AgentJar.classFileOrNull(BridgeFiles.DIR + internalName);
        return b != null ? b : ClassRenamer.rename(AgentJar.classFile(internalName), NAMES);
    }

    /** Typed access to the hooks' counters (the hooks class is defined at run time, so it is reached reflectively). */
    record HooksAccess(Object hooks) {
        long releaseErrors() {
            return HooksImpl.releaseErrors(hooks); // a direct call: reflection at exit costs generated classes too
        }
    }
}
