package sample.rewrite;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;

/**
 * Calls methods that share a name with intercepted members (allocate, invoke, bind) on other owners, and members
 * of the intercepted owners that are not intercepted: nothing here is rewritten, so the class loads byte-identical.
 */
public final class NearMisses {
    private NearMisses() {
    }

    public static ByteBuffer heapBuffer(int n) {
        return ByteBuffer.allocate(n);
    }

    public static Object invokeHandle(MethodHandle mh, Object arg) throws Throwable {
        return mh.invoke(arg);
    }

    public static MethodHandle constructor() throws ReflectiveOperationException {
        return MethodHandles.lookup().findConstructor(NearMisses.class, MethodType.methodType(void.class));
    }

    public static void bind(ServerSocket socket) throws IOException {
        socket.bind(new InetSocketAddress(0));
    }

    public static String name(Method m) {
        return m.getName();
    }

    public static boolean alive(Arena arena) {
        return arena.scope().isAlive();
    }
}
