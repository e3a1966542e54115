package io.jvmem.agent.bridge;

import java.io.FileDescriptor;
import java.lang.foreign.MemorySegment;

/**
 * Stands for {@code java.nio.DirectByteBuffer} when the bridge is compiled: the bridge is renamed into java.nio at run
 * time and this name becomes the JDK class, so {@code new DirectBufferStub(...)} calls the JDK's mapped-buffer
 * constructor {@code DirectByteBuffer(int, long, FileDescriptor, Runnable, boolean, MemorySegment)}, which registers
 * the JDK's internal cleaner: {@code invokeCleaner} from anywhere then runs our release action. Never loaded itself.
 */
final class DirectBufferStub {
    DirectBufferStub(int capacity, long address, FileDescriptor fd, Runnable unmapper, boolean isSync, MemorySegment segment) {
        throw new AssertionError("never instantiated");
    }
}
