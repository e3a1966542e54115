package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.jvmem.agent.bridge.Bridge;
import java.lang.invoke.MethodHandleInfo;
import java.lang.invoke.SerializedLambda;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code Bridge.restoreLambda}: a serialized method reference that the rewriter pointed at the bridge's pool-aware
 * Unsafe methods is named again by the member in the source, so javac's {@code $deserializeLambda$} accepts it.
 */
@Tag("unit")
class RestoreLambdaTest {
    private static final String SELF = Bridge.class.getName().replace('.', '/');
    private static final String FI = "sample/reach/SerialFree$Free";

    private static SerializedLambda lambda(int kind, String implClass, String name, String desc, Object... captured) {
        return new SerializedLambda(RestoreLambdaTest.class, FI, "free", "(Lsun/misc/Unsafe;J)V", kind, implClass, name,
                desc, "(Lsun/misc/Unsafe;J)V", captured);
    }

    @Test
    @Timeout(30)
    void theBridgesFreeMemoryIsNamedAgainAsTheUnsafeMethodItReplaced() {
        SerializedLambda r = Bridge.restoreLambda(lambda(MethodHandleInfo.REF_invokeStatic, SELF, "freeMemory",
                "(Lsun/misc/Unsafe;J)V"), RestoreLambdaTest.class);
        assertEquals(MethodHandleInfo.REF_invokeVirtual, r.getImplMethodKind());
        assertEquals("sun/misc/Unsafe", r.getImplClass());
        assertEquals("freeMemory", r.getImplMethodName());
        assertEquals("(J)V", r.getImplMethodSignature());
        assertEquals(FI, r.getFunctionalInterfaceClass());
        assertEquals("(Lsun/misc/Unsafe;J)V", r.getInstantiatedMethodType());
        assertEquals(RestoreLambdaTest.class.getName().replace('.', '/'), r.getCapturingClass());
    }

    @Test
    @Timeout(30)
    void theInternalUnsafesReallocateMemoryKeepsItsOwnerAndCapturedArguments() {
        Object receiver = new Object();
        SerializedLambda r = Bridge.restoreLambda(lambda(MethodHandleInfo.REF_invokeStatic, SELF, "reallocateMemory",
                "(Ljdk/internal/misc/Unsafe;JJ)J", receiver), RestoreLambdaTest.class);
        assertEquals("jdk/internal/misc/Unsafe", r.getImplClass());
        assertEquals("(JJ)J", r.getImplMethodSignature());
        assertArrayEquals(new Object[] {receiver}, new Object[] {r.getCapturedArg(0)});
    }

    @Test
    @Timeout(30)
    void anyOtherSerializedLambdaIsReturnedAsItIs() {
        SerializedLambda source = lambda(MethodHandleInfo.REF_invokeVirtual, "sun/misc/Unsafe", "freeMemory", "(J)V");
        assertSame(source, Bridge.restoreLambda(source, RestoreLambdaTest.class), "already the source's member");
        SerializedLambda other = lambda(MethodHandleInfo.REF_invokeStatic, SELF, "allocateDirectBound", "(II)Ljava/nio/ByteBuffer;");
        assertSame(other, Bridge.restoreLambda(other, RestoreLambdaTest.class), "a bridge method that is not pool-aware");
        SerializedLambda elsewhere = lambda(MethodHandleInfo.REF_invokeStatic, "a/B", "freeMemory", "(Lsun/misc/Unsafe;J)V");
        assertSame(elsewhere, Bridge.restoreLambda(elsewhere, RestoreLambdaTest.class), "a static freeMemory of another class");
    }
}
