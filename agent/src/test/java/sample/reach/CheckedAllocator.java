package sample.reach;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

/**
 * A bump allocator a program implements over one segment of its own: it checks layouts, then lets
 * {@code SegmentAllocator.super.allocate(layout)} (an {@code invokespecial} of an intercepted member) slice them.
 */
public final class CheckedAllocator implements SegmentAllocator {
    private final SegmentAllocator slices;

    public CheckedAllocator(MemorySegment over) {
        this.slices = SegmentAllocator.slicingAllocator(over);
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        return slices.allocate(byteSize, byteAlignment);
    }

    @Override
    public MemorySegment allocate(MemoryLayout layout) {
        if (layout.byteSize() == 0) {
            throw new IllegalArgumentException("empty layout");
        }
        return SegmentAllocator.super.allocate(layout);
    }
}
