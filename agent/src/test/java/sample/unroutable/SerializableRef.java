package sample.unroutable;

import io.jvmem.agent.Jvmem;
import java.io.Serializable;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.function.IntFunction;

/** Selected in a JVM of its own: a serializable method reference to allocateDirect, which the agent cannot route. */
public final class SerializableRef {
    private SerializableRef() {
    }

    public static void main(String[] args) {
        IntFunction<ByteBuffer> serializable = (IntFunction<ByteBuffer> & Serializable) ByteBuffer::allocateDirect;
        ByteBuffer b = serializable.apply(64);
        System.out.println("in pool: " + Jvmem.pool("p").contains(MemorySegment.ofBuffer(b).address()));
    }
}
