package io.jvmem.agent;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.concurrent.atomic.LongAdder;

/**
 * Decides which classes to rewrite and hands them to {@link CallSiteRewriter}. JDK classes (boot and platform loaders,
 * JDK modules) and the agent's own classes are never touched; every other class is scanned cheaply and rewritten
 * only if it mentions a target method. A class that fails to rewrite loads unmodified and the failure is reported
 * once.
 */
final class AgentTransformer implements ClassFileTransformer {
    private final RouteTable routes;
    private final Sites sites;
    private final AgentLog log;
    private final ClassLoader platform = ClassLoader.getPlatformClassLoader();
    final LongAdder rewritten = new LongAdder();
    final LongAdder failed = new LongAdder();

    private final CallSiteRewriter.SiteRegistrar registrar;

    AgentTransformer(RouteTable routes, Sites sites, AgentLog log) {
        this.routes = routes;
        this.sites = sites;
        this.log = log;
        this.registrar = new CallSiteRewriter.SiteRegistrar() {
            @Override
            public int register(String siteName, String call, Route route) {
                return sites.register(siteName, call, route);
            }

            @Override
            public void unrouted(String className, String way, Route route) {
                AgentTransformer.this.unrouted(className, way, route);
            }
        };
    }

    /**
     * A selected class reaches off-heap memory in a way the agent does not route: counted per route for the report,
     * and said once per class and way at log=warn.
     */
    void unrouted(String className, String way, Route route) {
        route.unrouted.computeIfAbsent(className + ": " + way, k -> new LongAdder()).increment();
        log.onceWarn("unrouted:" + className + ":" + way, "not routed (route " + route.name() + "): " + className + ": " + way);
    }

    /** A hidden class's bytes, rewritten as if it were loaded by {@code lookupClass}'s loader; null if unchanged. */
    byte[] rewriteHidden(Class<?> lookupClass, byte[] bytes) {
        ClassLoader loader = lookupClass.getClassLoader();
        if (loader == null || loader == platform) {
            return null;
        }
        try {
            String name = new org.objectweb.asm.ClassReader(bytes).getClassName();
            return transform(lookupClass.getModule(), loader, name, null, null, bytes);
        } catch (RuntimeException e) {
            return null; // a malformed class: defineHiddenClass reports it as it would have
        }
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String className, Class<?> classBeingRedefined,
                            ProtectionDomain protectionDomain, byte[] bytes) {
        if (loader == null && UnsafeCalleePatch.CLASS.equals(className)) {
            try {
                return UnsafeCalleePatch.patch(bytes);
            } catch (Throwable t) {
                failed.increment();
                log.onceWarn("transform:" + className, "could not make sun.misc.Unsafe's frees pool-aware: " + t);
                return null;
            }
        }
        if (loader == null && LinkerCalleePatch.CLASS.equals(className)) {
            try {
                byte[] patched = LinkerCalleePatch.patch(bytes);
                if (patched == null) {
                    log.onceWarn("transform:" + className, "the JDK's linker has no downcallHandle methods of JDK 22 to 25's "
                            + "shape: downcall handles made without a rewritten call (through a handle or Method.invoke of "
                            + "Linker.downcallHandle) are not pool-aware");
                }
                return patched;
            } catch (Throwable t) {
                failed.increment();
                log.onceWarn("transform:" + className, "could not make the JDK's downcall handles pool-aware: " + t);
                return null;
            }
        }
        if (loader == null || loader == platform || className == null || isExempt(className)) {
            return null;
        }
        if (module != null && module.isNamed() && module.getLayer() == ModuleLayer.boot()
                && (module.getName().startsWith("java.") || module.getName().startsWith("jdk."))) {
            return null;
        }
        try {
            Route route = routes.select(className.replace('/', '.'));
            byte[] out = CallSiteRewriter.rewrite(bytes, route, registrar);
            if (out != null) {
                rewritten.increment();
            }
            if (out != null && log.enabled(AgentConfig.LogLevel.DEBUG)) {
                log.debug("rewrote " + className.replace('/', '.') + (route == null ? " (pool-aware frees)" : " (route " + route.name() + ")"));
            }
            return out;
        } catch (Throwable t) {
            failed.increment();
            log.onceWarn("transform:" + className, "could not rewrite " + className.replace('/', '.')
                    + "; it loads unmodified: " + t);
            return null;
        }
    }

    static boolean isExempt(String internalName) {
        return internalName.startsWith("io/jvmem/agent/") || internalName.startsWith("io/jvmem/allocator/")
                || internalName.startsWith("java/") || internalName.startsWith("jdk/") || internalName.startsWith("sun/")
                || internalName.startsWith("com/sun/");
    }
}
