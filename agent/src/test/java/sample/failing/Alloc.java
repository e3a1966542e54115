package sample.failing;

import java.nio.ByteBuffer;

public final class Alloc {
    public static ByteBuffer allocate(int n) {
        return ByteBuffer.allocateDirect(n);
    }
}
