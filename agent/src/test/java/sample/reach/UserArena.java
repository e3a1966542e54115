package sample.reach;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** An arena a program implements itself: the agent leaves its allocate alone, and routes only the call inside it. */
public final class UserArena implements Arena {
    private final Arena inner = Arena.ofConfined();

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        return inner.allocate(byteSize, byteAlignment);
    }

    @Override
    public MemorySegment.Scope scope() {
        return inner.scope();
    }

    @Override
    public void close() {
        inner.close();
    }
}
