package io.jvmem.bench.routed;

import java.nio.ByteBuffer;

/** The start-up workload: hello world with one direct buffer (routed to the pool under the agent). */
public final class Hello {
    private Hello() {
    }

    public static void main(String[] args) {
        ByteBuffer b = ByteBuffer.allocateDirect(4096);
        b.putInt(0, 42);
        System.out.println("hello " + b.getInt(0));
    }
}
