package io.jvmem.agent;

import io.jvmem.allocator.MemoryPool;
import java.lang.reflect.Method;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The running agent's internals, for tests that run under the real agent jar. Its classes are loaded by the boot
 * loader (the jar's Boot-Class-Path) while the tests are loaded by the application loader: same package name, another
 * runtime package, so package-private members are reached reflectively (an unnamed module opens every package).
 */
final class InAgent {
    private InAgent() {
    }

    /** The agent's pools by name. */
    @SuppressWarnings("unchecked")
    static Collection<MemoryPool> pools() {
        return ((Map<String, MemoryPool>) call(runtime(), "pools")).values();
    }

    /** Releases that found their block already freed or foreign ({@code HooksImpl.releaseErrors}). */
    static long releaseErrors() {
        return (Long) call(call(runtime(), "hooks"), "releaseErrors");
    }

    /** Requests of route {@code name} that fell back to the JDK ({@code Route.fallbacks}). */
    static long fallbacks(String name) {
        for (Object r : (List<?>) field(runtime(), "routes")) {
            if (name.equals(call(field(r, "spec"), "name"))) {
                return ((java.util.concurrent.atomic.LongAdder) field(r, "fallbacks")).sum();
            }
        }
        throw new IllegalArgumentException("no route " + name);
    }

    private static Object field(Object target, String name) {
        try {
            java.lang.reflect.Field f = target.getClass().getDeclaredField(name);
            f.setAccessible(true);
            return f.get(target);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object runtime() {
        try {
            Method current = Class.forName("io.jvmem.agent.AgentRuntime").getDeclaredMethod("current");
            current.setAccessible(true);
            return current.invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object call(Object target, String method) {
        try {
            Method m = target.getClass().getDeclaredMethod(method);
            m.setAccessible(true);
            return m.invoke(target);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
