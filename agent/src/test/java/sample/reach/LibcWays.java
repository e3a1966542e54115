package sample.reach;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.LinkedHashMap;
import java.util.Map;
import sample.reachapi.Way;

/** libc's allocator reached through downcall handles, as jextract-generated bindings reach it. */
public final class LibcWays {
    private LibcWays() {
    }

    private static MemorySegment libc(String name) {
        return SymbolLookup.libraryLookup("libc.so.6", Arena.global()).find(name)
                .or(() -> Linker.nativeLinker().defaultLookup().find(name)).orElseThrow();
    }

    public static Map<String, Way> ways() {
        Linker linker = Linker.nativeLinker();
        SymbolLookup std = linker.defaultLookup();
        MethodHandle malloc = linker.downcallHandle(std.find("malloc").orElseThrow(), FunctionDescriptor.of(ADDRESS, JAVA_LONG));
        MethodHandle calloc = linker.downcallHandle(std.find("calloc").orElseThrow(), FunctionDescriptor.of(ADDRESS, JAVA_LONG, JAVA_LONG));
        MethodHandle realloc = linker.downcallHandle(std.find("realloc").orElseThrow(), FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG));
        MethodHandle alignedAlloc = linker.downcallHandle(std.find("aligned_alloc").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, JAVA_LONG, JAVA_LONG));
        MethodHandle posixMemalign = linker.downcallHandle(std.find("posix_memalign").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
        MethodHandle free = linker.downcallHandle(std.find("free").orElseThrow(), FunctionDescriptor.ofVoid(ADDRESS));
        Way.Free freeIt = a -> { free.invokeExact(MemorySegment.ofAddress(a)); };

        Map<String, Way> ways = new LinkedHashMap<>();
        ways.put("libc: malloc and free", Way.of(n -> ((MemorySegment) malloc.invokeExact(n)).address(), freeIt));
        ways.put("libc: calloc", Way.of(n -> ((MemorySegment) calloc.invokeExact(1L, n)).address(), freeIt));
        ways.put("libc: realloc from NULL", Way.of(n -> ((MemorySegment) realloc.invokeExact(MemorySegment.NULL, n)).address(), freeIt));
        ways.put("libc: aligned_alloc", Way.of(n -> aligned(((MemorySegment) alignedAlloc.invokeExact(4096L, n)).address(), 4096), freeIt));
        ways.put("libc: posix_memalign", Way.of(n -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment p = a.allocate(ADDRESS);
                int r = (int) posixMemalign.invokeExact(p, 256L, n);
                if (r != 0) {
                    throw new OutOfMemoryError("posix_memalign: " + r);
                }
                return aligned(p.get(JAVA_LONG, 0), 256);
            }
        }, freeIt));

        // addresses as long (size_t and pointers as JAVA_LONG), a library lookup instead of the default one
        MethodHandle mallocLong = linker.downcallHandle(libc("malloc"), FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
        MethodHandle freeLong = linker.downcallHandle(libc("free"), FunctionDescriptor.ofVoid(JAVA_LONG));
        ways.put("libc: malloc and free with JAVA_LONG addresses", Way.of(n -> (long) mallocLong.invokeExact(n),
                a -> { freeLong.invokeExact(a); }));

        // free whose function address is the handle's first argument
        MethodHandle freeAt = linker.downcallHandle(FunctionDescriptor.ofVoid(ADDRESS));
        MemorySegment freeAddress = std.find("free").orElseThrow();
        ways.put("libc: free through an address-first handle", Way.of(n -> ((MemorySegment) malloc.invokeExact(n)).address(),
                a -> { freeAt.invokeExact(freeAddress, MemorySegment.ofAddress(a)); }));
        // handles that capture errno (Linker.Option.captureCallState): a state segment before the function's arguments
        Linker.Option errno = Linker.Option.captureCallState("errno");
        MemorySegment state = Arena.global().allocate(Linker.Option.captureStateLayout());
        MethodHandle freeErrno = linker.downcallHandle(std.find("free").orElseThrow(), FunctionDescriptor.ofVoid(ADDRESS), errno);
        ways.put("libc: free through a captureCallState handle", Way.of(n -> ((MemorySegment) malloc.invokeExact(n)).address(),
                a -> { freeErrno.invokeExact(state, MemorySegment.ofAddress(a)); }));
        MethodHandle reallocErrnoAt = linker.downcallHandle(FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG), errno);
        MethodHandle freeErrnoAt = linker.downcallHandle(FunctionDescriptor.ofVoid(ADDRESS), errno);
        MemorySegment reallocAddress = std.find("realloc").orElseThrow();
        ways.put("libc: realloc and free through address-first captureCallState handles", Way.of(n -> {
            MemorySegment small = (MemorySegment) malloc.invokeExact(16L);
            return ((MemorySegment) reallocErrnoAt.invokeExact(reallocAddress, state, small, n)).address();
        }, a -> { freeErrnoAt.invokeExact(freeAddress, state, MemorySegment.ofAddress(a)); }));
        // Linker.downcallHandle itself reached through a looked-up handle (Method.invoke of it is not routed:
        // ReachProcessIT)
        try {
            MethodHandle dh = java.lang.invoke.MethodHandles.lookup().findVirtual(Linker.class, "downcallHandle",
                    java.lang.invoke.MethodType.methodType(MethodHandle.class, MemorySegment.class, FunctionDescriptor.class,
                            Linker.Option[].class));
            MethodHandle mallocH = (MethodHandle) dh.invoke(linker, std.find("malloc").orElseThrow(), FunctionDescriptor.of(ADDRESS, JAVA_LONG));
            MethodHandle freeH = (MethodHandle) dh.invoke(linker, std.find("free").orElseThrow(), FunctionDescriptor.ofVoid(ADDRESS));
            ways.put("libc: malloc and free from a looked-up Linker.downcallHandle", Way.of(
                    n -> ((MemorySegment) mallocH.invokeExact(n)).address(), a -> { freeH.invokeExact(MemorySegment.ofAddress(a)); }));
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        return ways;
    }

    private static long aligned(long address, long alignment) {
        if (address % alignment != 0) {
            throw new AssertionError(Long.toHexString(address) + " is not aligned to " + alignment);
        }
        return address;
    }

    /** realloc(3) through a handle made here. */
    public static long realloc(long address, long size) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle realloc = linker.downcallHandle(linker.defaultLookup().find("realloc").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG));
        return ((MemorySegment) realloc.invokeExact(MemorySegment.ofAddress(address), size)).address();
    }
}
