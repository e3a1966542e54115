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
 * <p>Linux on x86_64 and aarch64 share every flag constant used here; system call numbers differ and are chosen by
 * {@code os.arch}. Other architectures are refused rather than guessed.
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

    /**
     * Every system call goes through one downcall handle to libc's {@code syscall(2)} (variadic, all arguments as
     * longs), capturing errno: the FFM API spins code per handle shape, and one shape starts in a fraction of the time
     * eleven would. Created on first use.
     */
    private static final class SyscallCall {
        static {
            String arch = System.getProperty("os.arch");
            if (!arch.equals("amd64") && !arch.equals("x86_64") && !arch.equals("aarch64")) {
                throw new UnsupportedOperationException("jvmem pools need Linux on x86_64 or aarch64, not " + arch);
            }
        }

        static final MethodHandle H = errnoCall("syscall",
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG),
                Linker.Option.firstVariadicArg(1));
    }

    /** System call numbers: x86_64 and aarch64 differ. */
    private static final boolean AARCH64 = "aarch64".equals(System.getProperty("os.arch"));
    private static final long SYS_OPENAT = AARCH64 ? 56 : 257;
    private static final long SYS_CLOSE = AARCH64 ? 57 : 3;
    private static final long SYS_UNLINKAT = AARCH64 ? 35 : 263;
    private static final long SYS_FTRUNCATE = AARCH64 ? 46 : 77;
    private static final long SYS_FALLOCATE = AARCH64 ? 47 : 285;
    private static final long SYS_MMAP = AARCH64 ? 222 : 9;
    private static final long SYS_MUNMAP = AARCH64 ? 215 : 11;
    private static final long SYS_MADVISE = AARCH64 ? 233 : 28;
    private static final long SYS_MSYNC = AARCH64 ? 227 : 26;
    private static final long SYS_FLOCK = AARCH64 ? 32 : 73;
    private static final long AT_FDCWD = -100;

    private static long syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
        try {
            return (long) SyscallCall.H.invokeExact(STATE.get(), nr, a1, a2, a3, a4, a5, a6);
        } catch (Throwable t) {
            throw rethrow(t);
        }
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

    /**
     * Creates the downcall handles that creating a pool needs and makes one harmless call: the FFM API's first use
     * costs tens of milliseconds, which a caller may spend on another thread ahead of time.
     */
    static void preload() {
        close(-1); // EBADF: creates the handle and warms the call path
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
            return (int) syscall(SYS_OPENAT, AT_FDCWD, arena.allocateFrom(path).address(), flags, mode, 0, 0);
        }
    }

    static int unlink(String path) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) syscall(SYS_UNLINKAT, AT_FDCWD, arena.allocateFrom(path).address(), 0, 0, 0, 0);
        }
    }

    static int close(int fd) {
        return (int) syscall(SYS_CLOSE, fd, 0, 0, 0, 0, 0);
    }

    static int ftruncate(int fd, long length) {
        return (int) syscall(SYS_FTRUNCATE, fd, length, 0, 0, 0, 0);
    }

    static int fallocate(int fd, int mode, long offset, long length) {
        int r;
        do {
            r = (int) syscall(SYS_FALLOCATE, fd, mode, offset, length, 0, 0);
        } while (r != 0 && lastErrno() == EINTR);
        return r;
    }

    static long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        return syscall(SYS_MMAP, addr, length, prot, flags, fd, offset);
    }

    static int munmap(long addr, long length) {
        return (int) syscall(SYS_MUNMAP, addr, length, 0, 0, 0, 0);
    }

    static int madvise(long addr, long length, int advice) {
        return (int) syscall(SYS_MADVISE, addr, length, advice, 0, 0, 0);
    }

    static final int MS_SYNC = 4;

    static int flock(int fd, int operation) {
        return (int) syscall(SYS_FLOCK, fd, operation, 0, 0, 0, 0);
    }

    static int msync(long addr, long length, int flags) {
        return (int) syscall(SYS_MSYNC, addr, length, flags, 0, 0, 0);
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
