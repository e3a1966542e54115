package io.jvmem.allocator;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The few Linux system calls the pools need, as FFM downcalls: open (O_TMPFILE), fallocate (reserve and punch),
 * mmap/munmap/madvise and close. Each wrapper returns the raw result; a negative result means failure and
 * {@link #lastErrno()} holds errno, captured right after the call (Java code in between may clobber the real one).
 *
 * <p>Linux on x86_64 and aarch64 share every constant used here.
 */
final class Native {
    static final int O_RDWR = 02;
    static final int O_CREAT = 0100;
    static final int O_EXCL = 0200;
    static final int O_NOFOLLOW = 0400000;
    static final int O_CLOEXEC = 02000000;
    static final int O_TMPFILE = 020000000 | 0200000; // __O_TMPFILE | O_DIRECTORY

    static final int PROT_NONE = 0;
    static final int PROT_READ_WRITE = 0x1 | 0x2;
    static final int MAP_SHARED = 0x01;
    static final int MAP_PRIVATE = 0x02;
    static final int MAP_SHARED_VALIDATE = 0x03;
    static final int MAP_FIXED = 0x10;
    static final int MAP_ANONYMOUS = 0x20;
    static final int MAP_NORESERVE = 0x4000;
    static final int MAP_SYNC = 0x80000;

    static final int FALLOC_FL_KEEP_SIZE = 0x01;
    static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    static final int MADV_REMOVE = 9;

    static final int LOCK_SH = 1;
    static final int LOCK_EX = 2;
    static final int LOCK_NB = 4;
    static final int PROT_READ = 0x1;
    static final int EWOULDBLOCK = 11;
    static final int EEXIST = 17;
    static final int ENOENT = 2;
    static final int ELOOP = 40;
    static final int ENOSPC = 28;
    static final int EOPNOTSUPP = 95;
    static final int EINVAL = 22;
    static final int EISDIR = 21;
    static final int ENOMEM = 12;
    static final int EINTR = 4;

    static final long MAP_FAILED = -1L;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final long ERRNO_OFFSET = CALL_STATE.byteOffset(MemoryLayout.PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> STATE =
            ThreadLocal.withInitial(() -> Arena.global().allocate(CALL_STATE));

    /** Created on first use: each downcall handle costs start-up time. */
    private static final class OpenCall {
        static final MethodHandle H = errnoCall("open",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
                Linker.Option.firstVariadicArg(2));
    }
    private static final class CloseCall {
        static final MethodHandle H = errnoCall("close",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    }
    private static final class UnlinkCall {
        static final MethodHandle H = errnoCall("unlink",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    }
    private static final class FtruncateCall {
        static final MethodHandle H = errnoCall("ftruncate",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    }
    private static final class FallocateCall {
        static final MethodHandle H = errnoCall("fallocate",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    }
    private static final class MmapCall {
        static final MethodHandle H = errnoCall("mmap",
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    }
    private static final class MunmapCall {
        static final MethodHandle H = errnoCall("munmap",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    }
    private static final class MadviseCall {
        static final MethodHandle H = errnoCall("madvise",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    }
    private static final class MsyncCall {
        static final MethodHandle H = errnoCall("msync",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    }
    private static final class FlockCall {
        static final MethodHandle H = errnoCall("flock",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    }
    private static final class StrerrorCall {
        static final MethodHandle H = LINKER.downcallHandle(LINKER.defaultLookup().find("strerror").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    }

    private Native() {
    }

    private static MethodHandle errnoCall(String name, FunctionDescriptor fd, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = Linker.Option.captureCallState("errno");
        System.arraycopy(extra, 0, options, 1, extra.length);
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc symbol not found: " + name));
        return LINKER.downcallHandle(symbol, fd, options);
    }

    /** errno of the last failed call made through this class on this thread. */
    static int lastErrno() {
        return STATE.get().get(ValueLayout.JAVA_INT, ERRNO_OFFSET);
    }

    static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) StrerrorCall.H.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    static int open(String path, int flags, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) OpenCall.H.invokeExact(STATE.get(), arena.allocateFrom(path), flags, mode);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int unlink(String path) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) UnlinkCall.H.invokeExact(STATE.get(), arena.allocateFrom(path));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int close(int fd) {
        try {
            return (int) CloseCall.H.invokeExact(STATE.get(), fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int ftruncate(int fd, long length) {
        try {
            return (int) FtruncateCall.H.invokeExact(STATE.get(), fd, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int fallocate(int fd, int mode, long offset, long length) {
        try {
            int r;
            do {
                r = (int) FallocateCall.H.invokeExact(STATE.get(), fd, mode, offset, length);
            } while (r != 0 && lastErrno() == EINTR);
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        try {
            return (long) MmapCall.H.invokeExact(STATE.get(), addr, length, prot, flags, fd, offset);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int munmap(long addr, long length) {
        try {
            return (int) MunmapCall.H.invokeExact(STATE.get(), addr, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int madvise(long addr, long length, int advice) {
        try {
            return (int) MadviseCall.H.invokeExact(STATE.get(), addr, length, advice);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static final int MS_SYNC = 4;

    static int flock(int fd, int operation) {
        try {
            return (int) FlockCall.H.invokeExact(STATE.get(), fd, operation);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int msync(long addr, long length, int flags) {
        try {
            return (int) MsyncCall.H.invokeExact(STATE.get(), addr, length, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
