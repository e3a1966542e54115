package sample.libcfull;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * libc's allocators through downcall handles, with the route's pool full (LibcFailIT runs it under a route that says
 * on-exhausted=fail): each call must fail as libc's own does, with NULL (posix_memalign: ENOMEM), never an Error
 * and never DRAM. One line per case, {@code <case>: <outcome>}.
 */
public final class LibcFull {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MALLOC = handle("malloc", FunctionDescriptor.of(ADDRESS, JAVA_LONG));
    private static final MethodHandle FREE = handle("free", FunctionDescriptor.ofVoid(ADDRESS));

    private LibcFull() {
    }

    private static MethodHandle handle(String name, FunctionDescriptor fd, Linker.Option... options) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd, options);
    }

    public static void main(String[] args) throws Throwable {
        // made first: this class's own arena allocations are routed too, and a full pool fails them (OutOfMemoryError)
        MemorySegment out = Arena.global().allocate(JAVA_LONG);
        System.out.println("larger than the pool: " + ((MemorySegment) MALLOC.invokeExact(1L << 50)).address());
        List<MemorySegment> held = new ArrayList<>();
        for (long size : new long[] {1 << 20, 4096, 64}) { // at most the pool's 14 MiB: without a pool this stops too
            MemorySegment p;
            while (held.size() < 20_000 && (p = (MemorySegment) MALLOC.invokeExact(size)).address() != 0) {
                held.add(p);
            }
        }
        System.out.println("filled: " + (held.size() < 20_000));
        System.out.println("malloc: " + ((MemorySegment) MALLOC.invokeExact(64L)).address());
        MethodHandle calloc = handle("calloc", FunctionDescriptor.of(ADDRESS, JAVA_LONG, JAVA_LONG));
        System.out.println("calloc: " + ((MemorySegment) calloc.invokeExact(1L, 64L)).address());
        MethodHandle alignedAlloc = handle("aligned_alloc", FunctionDescriptor.of(ADDRESS, JAVA_LONG, JAVA_LONG));
        System.out.println("aligned_alloc: " + ((MemorySegment) alignedAlloc.invokeExact(64L, 4096L)).address());
        MethodHandle posixMemalign = handle("posix_memalign", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
        out.set(JAVA_LONG, 0, 7);
        int rc = (int) posixMemalign.invokeExact(out, 64L, 4096L);
        System.out.println("posix_memalign: " + rc + ", pointer left " + out.get(JAVA_LONG, 0));
        // a plain handle: one with captureCallState is pool-aware but not routed (its realloc may move a block to libc)
        MethodHandle realloc = handle("realloc", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG));
        MemorySegment block = held.getFirst().reinterpret(1 << 20);
        block.fill((byte) 0x2a);
        MemorySegment r = (MemorySegment) realloc.invokeExact(block, 8L << 20);
        boolean kept = block.elements(JAVA_BYTE).allMatch(b -> b.get(JAVA_BYTE, 0) == 0x2a);
        System.out.println("realloc: " + r.address() + ", bytes kept " + kept);
        System.out.println("realloc of NULL: " + ((MemorySegment) realloc.invokeExact(MemorySegment.NULL, 64L)).address());
        for (MemorySegment p : held) {
            FREE.invokeExact(p);
        }
        System.out.println("malloc once freed: " + (((MemorySegment) MALLOC.invokeExact(64L)).address() != 0));
    }
}
