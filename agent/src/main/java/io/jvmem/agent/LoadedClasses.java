package io.jvmem.agent;

import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;

/**
 * The classes loaded before the agent's transformer (late attach, or agents started before this one): those that may
 * need rewriting are retransformed, in batches.
 *
 * <p>Why batches: each {@code retransformClasses} call is one JVM safepoint operation that walks every loaded class and
 * compiled method, some 20–40 ms in a JVM that has loaded a few thousand classes, whatever the number of classes it
 * retransforms. One call per class made the agent's start after OpenTelemetry's javaagent (about 2,500 classes of its
 * own already loaded) take 75 s of such walks; a batch of {@value #BATCH} pays one walk. A batch is all or nothing, so
 * one that fails (a class the JVM refuses, say) is split in halves until the class that fails is alone, and that one is
 * reported; the others are retransformed as if nothing had happened.
 */
final class LoadedClasses {
    /** Classes per {@code retransformClasses} call: bounds each pause while keeping the walks few. */
    static final int BATCH = 512;

    private LoadedClasses() {
    }

    /**
     * Rewrites what was loaded before the transformer: the application's classes (any loader but the boot and platform
     * loaders), and the JDK's two classes the agent patches if they are loaded already. Returns the number of
     * {@code retransformClasses} calls made (for tests).
     */
    static int retransform(Instrumentation inst, AgentLog log) {
        ClassLoader platform = ClassLoader.getPlatformClassLoader();
        Module unsupported = ModuleLayer.boot().findModule("jdk.unsupported").orElse(null);
        List<Class<?>> candidates = new ArrayList<>();
        int calls = 0;
        for (Class<?> c : inst.getAllLoadedClasses()) {
            ClassLoader l = c.getClassLoader();
            if (l == null && c.getModule() != unsupported) {
                // the JDK's classes, without asking each its name (a thousand names cost 3 ms of start-up); the linker,
                // loaded when a pool needed it, becomes pool-aware as sun.misc.Unsafe does below
                if (java.lang.foreign.Linker.class.isAssignableFrom(c) && c.getName().equals(LinkerCalleePatch.CLASS.replace('/', '.'))) {
                    calls++;
                    patch(inst, c, log, "could not make the JDK's downcall handles pool-aware: ");
                }
                continue;
            }
            if (l == null && c.getName().equals("sun.misc.Unsafe")) {
                // Its frees become pool-aware however they are reached. Loaded only once a program uses it (a hello
                // world never does): then the transformer patches it as it loads, and start-up pays no retransform.
                calls++;
                patch(inst, c, log, "could not make sun.misc.Unsafe's frees pool-aware: ");
                continue;
            }
            if (l == null || l == platform || c.isArray() || c.isHidden() || c.isPrimitive()
                    || AgentTransformer.isExempt(c.getName().replace('.', '/')) || !inst.isModifiableClass(c)) {
                continue;
            }
            candidates.add(c);
        }
        for (int from = 0; from < candidates.size(); from += BATCH) {
            calls += retransform(inst, candidates.subList(from, Math.min(candidates.size(), from + BATCH)), log);
        }
        return calls;
    }

    private static void patch(Instrumentation inst, Class<?> c, AgentLog log, String warning) {
        try {
            inst.retransformClasses(c);
        } catch (Throwable t) {
            log.warn(warning + t);
        }
    }

    /** Retransforms {@code batch} in one call, or, if the JVM refuses it, each half; returns the calls made. */
    private static int retransform(Instrumentation inst, List<Class<?>> batch, AgentLog log) {
        try {
            inst.retransformClasses(batch.toArray(new Class<?>[0]));
            return 1;
        } catch (Throwable t) {
            if (batch.size() == 1) {
                Class<?> c = batch.get(0);
                log.onceWarn("retransform:" + c.getName(), "could not retransform " + c.getName() + ": " + t);
                return 1;
            }
            int half = batch.size() / 2;
            return 1 + retransform(inst, batch.subList(0, half), log) + retransform(inst, batch.subList(half, batch.size()), log);
        }
    }
}
