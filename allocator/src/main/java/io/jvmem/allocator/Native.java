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
 * <p>Linux on x86_64 and aarch64 share most flag constants used here; O_NOFOLLOW and O_DIRECTORY and the system call
 * numbers differ and are chosen by {@code os.arch}. Other architectures are refused rather than guessed.
 */
final class Native {
    /** Read before the constants below: aarch64 numbers some open flags and every system call differently. */
    private static final boolean AARCH64 = "aarch64".equals(System.getProperty("os.arch"));

    static final int O_RDWR = 02;
    static final int O_CREAT = 0100;
    static final int O_EXCL = 0200;
    static final int O_NOCTTY = 0400;
    static final int O_NONBLOCK = 04000;
    static final int O_NOFOLLOW = AARCH64 ? 0100000 : 0400000;
    static final int O_CLOEXEC = 02000000;
    static final int O_TMPFILE = 020000000 | (AARCH64 ? 040000 : 0200000); // __O_TMPFILE | O_DIRECTORY

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
    static final int MADV_HUGEPAGE = 14;
    static final int MADV_POPULATE_WRITE = 23;
    static final int MFD_CLOEXEC = 0x1;
    static final int MFD_HUGETLB = 0x4;
    static final int MPOL_MF_STRICT = 0x1;

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
    static final int EFAULT = 14;
    static final int EINTR = 4;
    static final int ENXIO = 6;
    static final int EDQUOT = 122;
    static final int SEEK_HOLE = 4;

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
    private static final long SYS_STATFS = AARCH64 ? 43 : 137;
    private static final long SYS_FSTATFS = AARCH64 ? 44 : 138;
    private static final long SYS_STATX = AARCH64 ? 291 : 332;
    private static final long SYS_PREAD64 = AARCH64 ? 67 : 17;
    private static final long SYS_LSEEK = AARCH64 ? 62 : 8;
    private static final long SYS_MBIND = AARCH64 ? 235 : 237;
    private static final long SYS_MOVE_PAGES = AARCH64 ? 239 : 279;
    private static final long SYS_MEMFD_CREATE = AARCH64 ? 279 : 319;
    private static final long AT_EMPTY_PATH = 0x1000;
    private static final long STATX_BLOCKS = 0x400;
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

    /** mbind(2): the NUMA policy {@code mode} over [addr, addr + length) for the nodes in {@code nodemask}. */
    static int mbind(long addr, long length, int mode, long[] nodemask, long maxnode, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocateFrom(ValueLayout.JAVA_LONG, nodemask);
            return (int) syscall(SYS_MBIND, addr, length, mode, mask.address(), maxnode, flags);
        }
    }

    /**
     * move_pages(2) of this process in query mode (no nodes given): for each page address, the node that holds it, or
     * a negative errno (-ENOENT: not present in this process's page tables). Returns the call's result.
     */
    static long queryPages(long[] pageAddresses, int[] statusOut) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pages = arena.allocateFrom(ValueLayout.JAVA_LONG, pageAddresses);
            MemorySegment status = arena.allocate(ValueLayout.JAVA_INT, pageAddresses.length);
            long r = syscall(SYS_MOVE_PAGES, 0, pageAddresses.length, pages.address(), 0, status.address(), 0);
            MemorySegment.copy(status, ValueLayout.JAVA_INT, 0, statusOut, 0, pageAddresses.length);
            return r;
        }
    }

    /** memfd_create(2): an anonymous file with no directory behind it; a descriptor, or negative. */
    static int memfdCreate(String name, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) syscall(SYS_MEMFD_CREATE, arena.allocateFrom(name).address(), flags, 0, 0, 0, 0);
        }
    }

    static int flock(int fd, int operation) {
        return (int) syscall(SYS_FLOCK, fd, operation, 0, 0, 0, 0);
    }

    static int msync(long addr, long length, int flags) {
        return (int) syscall(SYS_MSYNC, addr, length, flags, 0, 0, 0);
    }

    /**
     * Bytes the file system at {@code path} (statfs) or of the open file {@code fd} (fstatfs, when path is null) can
     * still give an unprivileged user (f_bavail × f_bsize); {@link Long#MAX_VALUE} when it sets no limit (f_blocks 0:
     * a tmpfs mounted with size=0, hugetlbfs without a size), -1 when the call fails.
     */
    static long freeBytes(String path, int fd) {
        try (Arena arena = Arena.ofConfined()) {
            // struct statfs on 64-bit Linux (x86_64 and the generic one aarch64 uses): f_type, f_bsize, f_blocks,
            // f_bfree, f_bavail, ... each 8 bytes; 120 bytes in all
            MemorySegment buf = arena.allocate(128, 8);
            long r = path != null ? syscall(SYS_STATFS, arena.allocateFrom(path).address(), buf.address(), 0, 0, 0, 0)
                    : syscall(SYS_FSTATFS, fd, buf.address(), 0, 0, 0, 0);
            if (r != 0) {
                return -1;
            }
            long bsize = buf.get(ValueLayout.JAVA_LONG, 8);
            long blocks = buf.get(ValueLayout.JAVA_LONG, 16);
            long bavail = buf.get(ValueLayout.JAVA_LONG, 32);
            if (blocks == 0 || bavail < 0 || bsize <= 0 || bavail > Long.MAX_VALUE / bsize) {
                return Long.MAX_VALUE;
            }
            return bavail * bsize;
        }
    }

    static final long HUGETLBFS_MAGIC = 0x958458f6L;

    /**
     * The page size of the open file's file system: a hugetlbfs's huge page size (its f_bsize), else 4096; -1 when
     * fstatfs fails.
     */
    static long filePageSize(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(128, 8);
            if (syscall(SYS_FSTATFS, fd, buf.address(), 0, 0, 0, 0) != 0) {
                return -1;
            }
            long type = buf.get(ValueLayout.JAVA_LONG, 0) & 0xffffffffL;
            return type == HUGETLBFS_MAGIC ? buf.get(ValueLayout.JAVA_LONG, 8) : 4096;
        }
    }

    /** Bytes of storage the open file holds (statx stx_blocks × 512), or -1 if unknown. */
    static long allocatedBytes(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256, 8); // struct statx: the same on every architecture
            MemorySegment empty = arena.allocateFrom("");
            if (syscall(SYS_STATX, fd, empty.address(), AT_EMPTY_PATH, STATX_BLOCKS, buf.address(), 0) != 0
                    || (buf.get(ValueLayout.JAVA_INT, 0) & STATX_BLOCKS) == 0) {
                return -1;
            }
            return buf.get(ValueLayout.JAVA_LONG, 48) * 512; // stx_blocks
        }
    }

    /** lseek(fd, offset, SEEK_HOLE): the first hole at or after offset (the file's size if none), or negative. */
    static long firstHole(int fd, long offset) {
        return syscall(SYS_LSEEK, fd, offset, SEEK_HOLE, 0, 0, 0);
    }

    /** pread into native memory; bytes read (0 at end of file), or negative. */
    static long pread(int fd, long address, long length, long offset) {
        long r;
        do {
            r = syscall(SYS_PREAD64, fd, address, length, offset, 0, 0);
        } while (r < 0 && lastErrno() == EINTR);
        return r;
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
