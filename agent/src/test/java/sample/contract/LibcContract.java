package sample.contract;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandleInfo;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;

/**
 * Calls whose outcome the program sees must be the JDK's with or without the agent (DowncallContractIT runs this
 * class in a JVM of its own both ways and compares the {@code <case>: } lines). Under the agent a route selects this
 * package, so its libc allocations come from pool {@code p}: {@code <case> pool: } lines say what the pool saw
 * ({@code no agent} without it).
 */
public final class LibcContract {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final MethodHandle MALLOC = handle("malloc", FunctionDescriptor.of(ADDRESS, JAVA_LONG));
    private static final MethodHandle FREE = handle("free", FunctionDescriptor.ofVoid(ADDRESS));

    private LibcContract() {
    }

    private static MethodHandle handle(String name, FunctionDescriptor fd, Linker.Option... options) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(), fd, options);
    }

    private interface Case {
        String run() throws Throwable;
    }

    public static void main(String[] args) {
        run("criticalPosixMemalignIntoAHeapArray", LibcContract::criticalPosixMemalignIntoAHeapArray);
        run("posixMemalignIntoAHeapArrayWithoutCritical", LibcContract::posixMemalignIntoAHeapArrayWithoutCritical);
        run("failedReallocMovingABlockToLibc", LibcContract::failedReallocMovingABlockToLibc);
        run("varargsAllocateFromLookedUp", LibcContract::varargsAllocateFromLookedUp);
        run("reallocarrayOfABlock", LibcContract::reallocarrayOfABlock);
        run("vallocAndPvalloc", LibcContract::vallocAndPvalloc);
        run("mallocUsableSize", LibcContract::mallocUsableSize);
        run("mallocUsableSizeReturnedAsATargetedAddress", LibcContract::mallocUsableSizeReturnedAsATargetedAddress);
        run("mallocUsableSizeThroughAnUnboundHandle", () -> mallocUsableSizeThrough(false));
        run("mallocUsableSizeWithCaptureCallState", () -> mallocUsableSizeThrough(true));
    }

    private static void run(String name, Case c) {
        String outcome;
        try {
            outcome = c.run();
        } catch (Throwable t) {
            outcome = "threw " + t;
        }
        System.out.println(name + ": " + outcome);
    }

    /** Pool p's bytes in use, or -1 without the agent. */
    private static long inUse() {
        try {
            return io.jvmem.agent.Jvmem.pool("p").stats().allocated();
        } catch (Throwable noAgent) {
            return -1;
        }
    }

    private static String pool(long address) {
        try {
            return String.valueOf(io.jvmem.agent.Jvmem.pool("p").contains(address));
        } catch (Throwable noAgent) {
            return "no agent";
        }
    }

    private static void poolLine(String name, String what) {
        System.out.println(name + " pool: " + what);
    }

    /** critical(true): the JDK passes the heap array to posix_memalign, which writes the pointer into it. */
    private static String criticalPosixMemalignIntoAHeapArray() throws Throwable {
        MethodHandle pm = handle("posix_memalign", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG),
                Linker.Option.critical(true));
        long before = inUse();
        long[] memptr = new long[2];
        int r = (int) pm.invokeExact(MemorySegment.ofArray(memptr).asSlice(8), 64L, 1000L);
        long p = memptr[1];
        MemorySegment.ofAddress(p).reinterpret(1000).fill((byte) 7); // the block is usable
        poolLine("criticalPosixMemalignIntoAHeapArray", "in pool " + pool(p));
        FREE.invokeExact(MemorySegment.ofAddress(p));
        poolLine("criticalPosixMemalignIntoAHeapArray", "back after free " + (inUse() == before));
        return "returned " + r + ", pointer written " + (p != 0) + ", aligned " + (p % 64 == 0) + ", array[0] " + memptr[0];
    }

    private static String posixMemalignIntoAHeapArrayWithoutCritical() throws Throwable {
        MethodHandle pm = handle("posix_memalign", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
        long[] memptr = new long[1];
        int r = (int) pm.invokeExact(MemorySegment.ofArray(memptr), 64L, 1000L);
        return "returned " + r;
    }

    /**
     * realloc to a size neither the pool nor libc can give: NULL, errno ENOMEM in the captured state, and the block
     * left as it was (its bytes kept, still to be freed).
     */
    private static String failedReallocMovingABlockToLibc() throws Throwable {
        MethodHandle realloc = handle("realloc", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG),
                Linker.Option.captureCallState("errno"));
        MemorySegment state = Arena.global().allocate(Linker.Option.captureStateLayout());
        var errno = Linker.Option.captureStateLayout().varHandle(MemoryLayout.PathElement.groupElement("errno"));
        MemorySegment p = ((MemorySegment) MALLOC.invokeExact(100L)).reinterpret(100);
        p.fill((byte) 0x2a);
        poolLine("failedReallocMovingABlockToLibc", "in pool " + pool(p.address()));
        errno.set(state, 0L, 0);
        MemorySegment r = (MemorySegment) realloc.invokeExact(state, p, Long.MAX_VALUE / 2);
        int e = (int) errno.get(state, 0L);
        boolean kept = p.elements(JAVA_BYTE).allMatch(b -> b.get(JAVA_BYTE, 0) == 0x2a);
        FREE.invokeExact(p);
        return "returned " + (r.equals(MemorySegment.NULL) ? "NULL" : "non-NULL") + ", errno " + e + ", bytes kept " + kept;
    }

    /** allocateFrom(OfByte, byte...) is varargs: its looked-up handle says so, and collects trailing arguments. */
    private static String varargsAllocateFromLookedUp() throws Throwable {
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        MethodHandle h = lookup.findVirtual(SegmentAllocator.class, "allocateFrom",
                MethodType.methodType(MemorySegment.class, ValueLayout.OfByte.class, byte[].class));
        MethodHandleInfo info = lookup.revealDirect(h);
        Method reflected = MethodHandles.reflectAs(Method.class, h);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = (MemorySegment) h.invoke(arena, JAVA_BYTE, (byte) 1, (byte) 2, (byte) 3);
            MemorySegment t = (MemorySegment) h.invokeWithArguments(arena, JAVA_BYTE, (byte) 4, (byte) 5);
            poolLine("varargsAllocateFromLookedUp", "in pool " + pool(s.address()) + " " + pool(t.address()));
            return "isVarargsCollector " + h.isVarargsCollector() + ", revealed isVarArgs " + info.isVarArgs()
                    + ", reflected isVarArgs " + reflected.isVarArgs() + ", fixed arity " + h.asFixedArity().isVarargsCollector()
                    + ", sizes " + s.byteSize() + " " + t.byteSize() + ", last " + s.get(JAVA_BYTE, 2) + " " + t.get(JAVA_BYTE, 1);
        }
    }

    /** reallocarray(3) of a malloc'ed block: libc's realloc behind it must never see a pool block. */
    private static String reallocarrayOfABlock() throws Throwable {
        MethodHandle reallocarray = handle("reallocarray", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG));
        long before = inUse();
        MemorySegment p = ((MemorySegment) MALLOC.invokeExact(100L)).reinterpret(100);
        p.fill((byte) 0x3b);
        poolLine("reallocarrayOfABlock", "in pool " + pool(p.address()));
        MemorySegment overflow = (MemorySegment) reallocarray.invokeExact(p, Long.MAX_VALUE, 4L);
        MemorySegment r = ((MemorySegment) reallocarray.invokeExact(p, 1000L, 8L)).reinterpret(8000);
        boolean kept = r.asSlice(0, 100).elements(JAVA_BYTE).allMatch(b -> b.get(JAVA_BYTE, 0) == 0x3b);
        r.fill((byte) 1);
        poolLine("reallocarrayOfABlock", "grown in pool " + pool(r.address()));
        FREE.invokeExact(r);
        poolLine("reallocarrayOfABlock", "back after free " + (inUse() == before));
        return "overflow " + (overflow.equals(MemorySegment.NULL) ? "NULL" : "non-NULL") + ", grown "
                + !r.equals(MemorySegment.NULL) + ", bytes kept " + kept;
    }

    /** valloc(3) and pvalloc(3): page-aligned blocks (pvalloc's a whole number of pages), freed by free(3). */
    private static String vallocAndPvalloc() throws Throwable {
        MethodHandle valloc = handle("valloc", FunctionDescriptor.of(ADDRESS, JAVA_LONG));
        MethodHandle pvalloc = handle("pvalloc", FunctionDescriptor.of(ADDRESS, JAVA_LONG));
        int page = (int) LINKER.downcallHandle(LIBC.find("getpagesize").orElseThrow(), FunctionDescriptor.of(JAVA_INT)).invokeExact();
        long before = inUse();
        MemorySegment v = ((MemorySegment) valloc.invokeExact(100L)).reinterpret(100);
        MemorySegment pv = ((MemorySegment) pvalloc.invokeExact(page + 1L)).reinterpret(2L * page);
        v.fill((byte) 1);
        pv.fill((byte) 2); // pvalloc rounds up to whole pages: all of them are the program's
        poolLine("vallocAndPvalloc", "in pool " + pool(v.address()) + " " + pool(pv.address()));
        FREE.invokeExact(v);
        FREE.invokeExact(pv);
        poolLine("vallocAndPvalloc", "back after free " + (inUse() == before));
        return "page aligned " + (v.address() % page == 0) + " " + (pv.address() % page == 0);
    }

    /** malloc_usable_size(3) of a block from malloc: at least what was asked; of NULL, 0. */
    private static String mallocUsableSize() throws Throwable {
        MethodHandle usable = handle("malloc_usable_size", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        MethodHandle usableLong = handle("malloc_usable_size", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
        MemorySegment m = (MemorySegment) MALLOC.invokeExact(100L);
        long size = (long) usable.invokeExact(m);
        long sizeByLong = (long) usableLong.invokeExact(m.address());
        long ofNull = (long) usable.invokeExact(MemorySegment.NULL);
        String pool = pool(m.address());
        if (!pool.equals("no agent")) {
            poolLine("mallocUsableSize", "in pool " + pool + ", the pool's usable size "
                    + (size == io.jvmem.agent.Jvmem.pool("p").usableSize(m.address())));
        }
        FREE.invokeExact(m);
        return "at least asked " + (size >= 100 && size < 4096) + ", same by address " + (size == sizeByLong)
                + ", of NULL " + ofNull;
    }

    /** size_t declared as an address with a target layout: the JDK sizes the returned segment to that layout. */
    private static String mallocUsableSizeReturnedAsATargetedAddress() throws Throwable {
        MethodHandle usable = handle("malloc_usable_size", FunctionDescriptor.of(ADDRESS.withTargetLayout(JAVA_LONG), ADDRESS));
        MemorySegment m = (MemorySegment) MALLOC.invokeExact(100L);
        MemorySegment size = (MemorySegment) usable.invokeExact(m);
        String pool = pool(m.address());
        if (!pool.equals("no agent")) {
            poolLine("mallocUsableSizeReturnedAsATargetedAddress", "in pool " + pool);
        }
        FREE.invokeExact(m);
        return "segment size " + size.byteSize() + ", at least asked " + (size.address() >= 100);
    }

    /**
     * malloc_usable_size through an unbound handle ({@code state} false) or one made with captureCallState, of two
     * blocks whose usable bytes (as the bound handle says) hold the program's data: glibc's own reads its chunk header
     * from the bytes before the block, which for a pool block are the other block's data.
     */
    private static String mallocUsableSizeThrough(boolean state) throws Throwable {
        MemorySegment function = LIBC.find("malloc_usable_size").orElseThrow();
        MethodHandle bound = handle("malloc_usable_size", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        MethodHandle unbound = LINKER.downcallHandle(FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        MethodHandle capturing = handle("malloc_usable_size", FunctionDescriptor.of(JAVA_LONG, ADDRESS),
                Linker.Option.captureCallState("errno"));
        MemorySegment[] blocks = {(MemorySegment) MALLOC.invokeExact(100L), (MemorySegment) MALLOC.invokeExact(100L)};
        for (MemorySegment b : blocks) {
            long usable = (long) bound.invokeExact(b);
            MemorySegment all = b.reinterpret(usable);
            for (long i = 0; i + 8 <= usable; i += 8) {
                all.set(JAVA_LONG.withByteAlignment(1), i, 0x4000_0000_0000_0000L);
            }
        }
        StringBuilder out = new StringBuilder();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = arena.allocate(Linker.Option.captureStateLayout());
            for (MemorySegment b : blocks) {
                long size = state ? (long) capturing.invokeExact(errno, b) : (long) unbound.invokeExact(function, b);
                out.append(size == (long) bound.invokeExact(b) ? "same as bound, " : "differs from bound (" + size + "), ");
            }
        }
        if (!pool(blocks[0].address()).equals("no agent")) {
            poolLine(state ? "mallocUsableSizeWithCaptureCallState" : "mallocUsableSizeThroughAnUnboundHandle",
                    "in pool " + pool(blocks[0].address()) + " " + pool(blocks[1].address()));
        }
        for (MemorySegment b : blocks) {
            FREE.invokeExact(b);
        }
        return out.append("freed").toString();
    }
}
