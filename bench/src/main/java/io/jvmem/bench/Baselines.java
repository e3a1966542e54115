package io.jvmem.bench;

import java.lang.reflect.Field;

/**
 * What users would pick instead of a pool, for comparison in the same run. {@code sun.misc.Unsafe} appears only
 * here, as the baseline being measured; jvmem itself never calls it.
 */
final class Baselines {
    static final sun.misc.Unsafe UNSAFE = unsafe();

    private Baselines() {
    }

    private static sun.misc.Unsafe unsafe() {
        try {
            Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            return (sun.misc.Unsafe) f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
