package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertSame;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.SegmentAllocator;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The bridge tells an intercepted member's {@code Method} from others by comparing its name with string literals by
 * identity ({@code JvmemReflect.interceptedMethod}), which the JIT folds for a constant {@code Method}. That relies
 * on the JVM interning the names of the {@code Method} objects it makes, however they are obtained.
 */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
@org.junit.jupiter.api.Tag("unit")
class MethodInvokeNamesTest {
    @Test
    void theNamesOfReflectedInterceptedMembersAreTheInternedLiterals() throws Exception {
        assertSame("allocateDirect", ByteBuffer.class.getMethod("allocateDirect", int.class).getName());
        assertSame("allocateMemory", sun.misc.Unsafe.class.getMethod("allocateMemory", long.class).getName());
        assertSame("reallocateMemory", sun.misc.Unsafe.class.getMethod("reallocateMemory", long.class, long.class).getName());
        assertSame("freeMemory", sun.misc.Unsafe.class.getMethod("freeMemory", long.class).getName());
        assertSame("allocate", Arena.class.getMethod("allocate", long.class, long.class).getName());
        assertSame("allocate", SegmentAllocator.class.getMethod("allocate", long.class).getName());
        assertSame("allocateFrom", SegmentAllocator.class.getMethod("allocateFrom", String.class).getName());
        assertSame("downcallHandle", Linker.class.getMethod("downcallHandle", java.lang.foreign.FunctionDescriptor.class,
                Linker.Option[].class).getName());
    }

    @Test
    void theNamesOfMethodsFromEveryReflectiveWayAreInterned() throws Exception {
        Method viaImplementation = Arena.ofAuto().getClass().getMethod("allocate", long.class, long.class);
        assertSame("allocate", viaImplementation.getName());
        for (Method m : sun.misc.Unsafe.class.getDeclaredMethods()) {
            assertSame(m.getName().intern(), m.getName(), m.toString());
        }
        for (Method m : ByteBuffer.class.getMethods()) {
            assertSame(m.getName().intern(), m.getName(), m.toString());
        }
    }
}
