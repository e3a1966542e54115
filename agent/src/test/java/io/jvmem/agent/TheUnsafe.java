package io.jvmem.agent;

import java.lang.reflect.Field;
import sun.misc.Unsafe;

/** {@code sun.misc.Unsafe.theUnsafe}, as applications get it, for the tests that call it as they do. */
final class TheUnsafe {
    static final Unsafe U;

    static {
        try {
            Field f = Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            U = (Unsafe) f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private TheUnsafe() {
    }
}
