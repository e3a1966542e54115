package io.jvmem.bench.startup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.ProtectionDomain;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;

/**
 * Reference agents for {@link io.jvmem.bench.StartupTimer}: what any agent built like jvmem's must pay at start-up,
 * without any of jvmem. {@code StartupTimer} packs it alone, with ASM, into {@code startup-floor-agent.jar} next to its output.
 * <ul>
 *   <li>argument {@code transformer}: installs a retransforming {@link ClassFileTransformer} that changes nothing, the
 *       JVM's own price for {@code -javaagent} (java.instrument loads, the agent jar is opened through the class path,
 *       premain is called by reflection, whose first use builds the method-handle machinery);</li>
 *   <li>argument {@code floor}: that, plus the two things a pool-routing agent cannot skip for a hello world whose one
 *       buffer is routed: an FFM mapping of a 64 MiB file on /dev/shm (created, unlinked, mapped into a shared arena,
 *       one 8-byte store and load through a {@link ValueLayout}; jvmem's pools are FFM segments), made on a second
 *       thread, and an ASM read and write of each application class the program loads (a pass-through visitor: jvmem's
 *       rewriter is ASM).</li>
 * </ul>
 */
public final class FloorAgent {
    private FloorAgent() {
    }

    public static void premain(String args, Instrumentation inst) throws Exception {
        boolean floor = "floor".equals(args);
        Thread mapping = null;
        if (floor) {
            mapping = new Thread(new Runnable() {
                @Override
                public void run() {
                    map();
                }
            }, "floor-map");
            mapping.start();
        }
        Thread waitFor = mapping;
        inst.addTransformer(new ClassFileTransformer() {
            @Override
            public byte[] transform(Module module, ClassLoader loader, String name, Class<?> redefined,
                                    ProtectionDomain domain, byte[] bytes) {
                if (!floor || loader == null || name == null || name.startsWith("java/") || name.startsWith("jdk/")
                        || name.startsWith("sun/") || name.startsWith("io/jvmem/bench/startup/")) {
                    return null;
                }
                ClassReader reader = new ClassReader(bytes);
                ClassWriter writer = new ClassWriter(reader, 0);
                reader.accept(new ClassVisitor(Opcodes.ASM9, writer) { }, 0);
                byte[] out = writer.toByteArray();
                join(waitFor); // the program's first routed allocation needs the pool
                return out;
            }
        }, true);
    }

    private static void map() {
        try {
            Path p = Path.of("/dev/shm", ".jvmem-floor-" + System.nanoTime()); // CREATE_NEW: never another's file
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                    StandardOpenOption.WRITE)) {
                Files.delete(p);
                MemorySegment s = ch.map(FileChannel.MapMode.READ_WRITE, 0, 64L << 20, Arena.ofShared());
                s.set(ValueLayout.JAVA_LONG, 0, 42L);
                if (s.get(ValueLayout.JAVA_LONG, 0) != 42L) {
                    throw new IllegalStateException("the mapping does not hold what was stored");
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void join(Thread t) {
        if (t == null) {
            return;
        }
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
