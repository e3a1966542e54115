package io.jvmem.allocator;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;

/**
 * The memory under a pool, through FFM system calls: an unlinked temporary file in a directory (libvmem's
 * vmem_create) other than a tmpfs one (see {@link TmpfsFile}), a whole device DAX, or a close-to-open pool's named
 * file. Files are created 0600 without following symlinks (O_TMPFILE, or
 * O_CREAT|O_EXCL|O_NOFOLLOW then unlink), their space reserved up front in chunks with fallocate so a full file
 * system fails here and not with SIGBUS on first touch, and mapped shared read-write (MAP_SYNC first, for DAX). A
 * request larger than the file system's free space is refused before anything is made. An existing pool file gets
 * pages for its holes (a sparse copy) before it is mapped: reading a hole through a shared mapping takes a page, and
 * a full tmpfs answers that with SIGBUS.
 *
 * <p>Unmapping puts an anonymous mapping at the same addresses (MAP_FIXED) before the file's mapping disappears, so
 * a straggling access through an old address reads harmless zeros instead of crashing the JVM; that placeholder is
 * released when the pool object is collected.
 */
final class PoolFile implements MappedFile {
    /** fallocate granularity: one huge call can fail with ENOMEM on tmpfs. */
    static final long RESERVE_CHUNK = 64L << 20;

    final long address;
    final long size;
    final String description;
    final boolean syncMapped;
    private final int fd;
    private final boolean punchable;
    private boolean unmapped;
    /** Permission bits of a named pool file as opened (0 for other files). */
    private int mode;

    private PoolFile(long address, long size, int fd, String description, boolean punchable, boolean syncMapped) {
        this.address = address;
        this.size = size;
        this.fd = fd;
        this.description = description;
        this.punchable = punchable;
        this.syncMapped = syncMapped;
    }

    @Override
    public MemorySegment segment() {
        return MemorySegment.ofAddress(address).reinterpret(size);
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean syncMapped() {
        return syncMapped;
    }

    /** A fresh unlinked temporary file of {@code size} bytes in {@code dir}, reserved with fallocate and mapped. */
    static PoolFile createTemp(Path dir, long size) {
        return createTemp(dir, size, PoolFile::fallocate);
    }

    /** fallocate(2) as a reservation step: 0, or the errno it failed with (tests simulate a full file system). */
    interface Reserver {
        int fallocate(int fd, int mode, long offset, long length);
    }

    static int fallocate(int fd, int mode, long offset, long length) {
        return Native.fallocate(fd, mode, offset, length) == 0 ? 0 : Native.lastErrno();
    }

    /** As {@link #createTemp(Path, long)} with the reservation call replaced (tests simulate a full file system). */
    static PoolFile createTemp(Path dir, long size, Reserver reserver) {
        if (!Files.isDirectory(dir)) {
            throw new PoolException(Files.exists(dir) ? PoolErrorReason.BAD_ARGUMENT : PoolErrorReason.NOT_FOUND,
                    "cannot create pool in " + dir + ": not a directory");
        }
        String d = dir.toAbsolutePath().toString();
        requireSpace(d, size, d);
        int fd = Native.open(d, Native.O_TMPFILE | Native.O_RDWR | Native.O_CLOEXEC, 0600);
        if (fd < 0) {
            int errno = Native.lastErrno();
            if (errno != Native.EOPNOTSUPP && errno != Native.EISDIR && errno != Native.EINVAL) {
                throw new PoolException(reasonOf(errno), "cannot create pool file in " + d + ": " + Native.strerror(errno));
            }
            fd = createAndUnlink(d);
        }
        try {
            reserve(fd, size, d, reserver);
            return map(fd, size, "temporary file in " + d, true);
        } catch (RuntimeException e) {
            Native.close(fd);
            throw e;
        }
    }

    private static int createAndUnlink(String dir) {
        SecureRandom random = new SecureRandom();
        for (int attempt = 0; attempt < 100; attempt++) {
            String name = dir + "/.jvmem-" + Long.toHexString(random.nextLong() & Long.MAX_VALUE);
            int fd = Native.open(name, Native.O_CREAT | Native.O_EXCL | Native.O_RDWR | Native.O_NOFOLLOW | Native.O_CLOEXEC, 0600);
            if (fd >= 0) {
                Native.unlink(name);
                return fd;
            }
            int errno = Native.lastErrno();
            if (errno != Native.EEXIST) {
                throw new PoolException(reasonOf(errno), "cannot create pool file in " + dir + ": " + Native.strerror(errno));
            }
        }
        throw new PoolException(PoolErrorReason.IO, "cannot create pool file in " + dir + ": no unused name found");
    }

    /** Reserves [0, size) chunk by chunk; the first chunk that fails stops it (ENOSPC: {@link PoolErrorReason#NO_SPACE}). */
    private static void reserve(int fd, long size, String where, Reserver reserver) {
        for (long off = 0; off < size; off += RESERVE_CHUNK) {
            long len = Math.min(RESERVE_CHUNK, size - off);
            int errno = reserver.fallocate(fd, 0, off, len);
            if (errno != 0) {
                throw new PoolException(reasonOf(errno), "cannot reserve " + size + " bytes for a pool in " + where + ": "
                        + Native.strerror(errno) + " (after " + off + " bytes)");
            }
        }
    }

    /**
     * Refuses at once ({@link PoolErrorReason#NO_SPACE}) when the file system holding {@code dir} has less free space
     * than {@code bytes}, before any of it is taken: reserving until the file system is full would starve everything
     * else on it (and on a tmpfs the size of memory wake the OOM killer) only to fail anyway.
     */
    static void requireSpace(String dir, long bytes, String where) {
        long free = Native.freeBytes(dir, -1);
        if (free >= 0 && free < bytes) {
            throw noSpace(bytes, where, free);
        }
    }

    static PoolException noSpace(long bytes, String where, long free) {
        return new PoolException(PoolErrorReason.NO_SPACE, "cannot reserve " + bytes + " bytes for a pool in " + where
                + ": No space left on device (the file system has " + free + " bytes free); nothing was reserved");
    }

    /** The reason a failed system call's errno stands for. */
    static PoolErrorReason reasonOf(int errno) {
        return switch (errno) {
            case Native.ENOSPC, Native.EDQUOT -> PoolErrorReason.NO_SPACE;
            case Native.ENOENT -> PoolErrorReason.NOT_FOUND;
            case Native.EEXIST -> PoolErrorReason.EXISTS;
            case Native.ELOOP -> PoolErrorReason.SYMLINK;
            case Native.EISDIR, Native.ENXIO -> PoolErrorReason.NOT_REGULAR_FILE;
            case Native.EWOULDBLOCK -> PoolErrorReason.LOCKED;
            default -> PoolErrorReason.IO;
        };
    }

    /** The whole device DAX at {@code device}; its size comes from sysfs. */
    static PoolFile openDevice(Path device) {
        long size = deviceSize(device);
        return openDevice(device, size);
    }

    static PoolFile openDevice(Path device, long size) {
        String d = device.toAbsolutePath().toString();
        // non-blocking, and never as the controlling terminal: the path may name a device other than a DAX one
        int fd = Native.open(d, Native.O_RDWR | Native.O_NONBLOCK | Native.O_NOCTTY | Native.O_CLOEXEC, 0);
        if (fd < 0) {
            int errno = Native.lastErrno();
            throw new PoolException(reasonOf(errno), "cannot open device " + d + ": " + Native.strerror(errno));
        }
        try {
            return map(fd, size, "device " + d, false);
        } catch (RuntimeException e) {
            Native.close(fd);
            throw e;
        }
    }

    static boolean isCharDevice(Path p) {
        try {
            int mode = (Integer) Files.getAttribute(p, "unix:mode");
            return (mode & 0170000) == 0020000;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    static long deviceSize(Path device) {
        try {
            int rdev = ((Number) Files.getAttribute(device, "unix:rdev")).intValue();
            int major = (rdev >>> 8) & 0xfff;
            int minor = (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);
            Path sys = Path.of("/sys/dev/char/" + major + ":" + minor + "/size");
            if (!Files.exists(sys)) {
                throw new PoolException(PoolErrorReason.BAD_ARGUMENT, "cannot determine the size of device " + device
                        + ": no " + sys + " (not a device DAX?)");
            }
            return Long.parseLong(Files.readString(sys).trim());
        } catch (IOException | NumberFormatException e) {
            throw new PoolException(PoolErrorReason.IO, "cannot determine the size of device " + device + ": "
                    + e.getMessage());
        }
    }

    private static PoolFile map(int fd, long size, String description, boolean punchable) {
        return map(fd, size, description, punchable, Native.PROT_READ_WRITE);
    }

    private static PoolFile map(int fd, long size, String description, boolean punchable, int prot) {
        long a = Native.mmap(0, size, prot, Native.MAP_SHARED_VALIDATE | Native.MAP_SYNC, fd, 0);
        boolean sync = a != Native.MAP_FAILED;
        if (!sync) {
            a = Native.mmap(0, size, prot, Native.MAP_SHARED, fd, 0);
        }
        if (a == Native.MAP_FAILED) {
            int errno = Native.lastErrno();
            throw new PoolException(PoolErrorReason.IO, "cannot map " + size + " bytes of " + description + ": "
                    + Native.strerror(errno));
        }
        return new PoolFile(a, size, fd, description, punchable, sync);
    }

    // ---------------------------------------------------------------- named pool files (close-to-open pools)

    /**
     * Creates the pool file {@code path}: O_CREAT|O_EXCL (never an existing file), O_NOFOLLOW, the given mode; locks it
     * exclusively, reserves its space and maps it. A size beyond the file system's free space is refused before the
     * file is made; on any failure nothing is left behind.
     */
    static PoolFile createNamed(Path path, long size, int mode) {
        String p = path.toAbsolutePath().toString();
        requireSpace(PoolPaths.parentOf(path).toString(), size, p);
        int fd = Native.open(p, Native.O_CREAT | Native.O_EXCL | Native.O_RDWR | Native.O_NOFOLLOW | Native.O_CLOEXEC, mode);
        if (fd < 0) {
            int errno = Native.lastErrno();
            throw new PoolException(reasonOf(errno), errno == Native.EEXIST ? "cannot create pool " + p + ": the file exists"
                    : "cannot create pool " + p + ": " + Native.strerror(errno));
        }
        try {
            lock(fd, p, Native.LOCK_EX);
            reserve(fd, size, p, PoolFile::fallocate);
            return map(fd, size, "pool file " + p, true);
        } catch (RuntimeException e) {
            Native.unlink(p);
            Native.close(fd);
            throw e;
        }
    }

    /** An existing named pool file, open, checked and locked, not mapped. */
    private record Opened(int fd, String path, long size, int mode) {
    }

    /**
     * Opens an existing pool file. Its type is checked first without opening it (opening a FIFO blocks, opening a
     * device may act on it); then it is opened non-blocking, without following a symbolic link and never as a
     * controlling terminal, and checked again through the descriptor (no race with a rename): a regular file of this
     * user that nobody else may write. Locked exclusively for use, shared for an offline check.
     */
    private static Opened openExisting(Path path, boolean readOnly) {
        PoolPaths.checkRegularFile(path);
        String p = path.toAbsolutePath().toString();
        int flags = (readOnly ? 0 : Native.O_RDWR) | Native.O_NOFOLLOW | Native.O_NONBLOCK | Native.O_NOCTTY | Native.O_CLOEXEC;
        int fd = Native.open(p, flags, 0);
        if (fd < 0) {
            int errno = Native.lastErrno();
            throw new PoolException(reasonOf(errno), switch (errno) {
                case Native.ELOOP -> "refusing to open pool " + p + ": it is a symbolic link";
                case Native.ENOENT -> "cannot open pool " + p + ": no such file";
                default -> "cannot open pool " + p + ": " + Native.strerror(errno);
            });
        }
        try {
            long[] st = trusted(fd, p);
            lock(fd, p, readOnly ? Native.LOCK_SH : Native.LOCK_EX);
            return new Opened(fd, p, st[0], (int) st[1] & 07777);
        } catch (RuntimeException e) {
            Native.close(fd);
            throw e;
        }
    }

    /**
     * Opens an existing pool file for use (see {@link #openExisting}) and maps it. Its magic is read with plain file
     * I/O first, so a file that is not a pool is refused unchanged; a pool's holes then get their pages before
     * anything touches the mapping ({@link #reserveHoles}). {@code reserveShort > 0} lets a file of ours with mode
     * 0600 whose creation was killed (no magic, or shorter than a pool header and all zeros) through, the short one
     * reserved to that size, for the caller to create afresh.
     */
    static PoolFile openNamed(Path path, long reserveShort) {
        Opened o = openExisting(path, false);
        String p = o.path();
        try {
            long size = o.size();
            boolean unborn = reserveShort > 0 && o.mode() == 0600;
            if (size < PoolLayout.HEADER_BYTES) {
                boolean zeros = allZero(o.fd());
                if (!unborn || !zeros) {
                    throw shortFile(p, zeros);
                }
                requireSpace(o.fd(), reserveShort - size, p);
                reserve(o.fd(), reserveShort, p, PoolFile::fallocate);
                size = reserveShort;
            } else {
                long magic = readLong(o.fd(), PoolLayout.OFF_MAGIC, p);
                if (magic == 0 && !unborn) {
                    throw new PoolException(PoolErrorReason.UNFORMATTED, "not a jvmem pool (no magic: never formatted, "
                            + "or its creation was interrupted): " + p);
                } else if (magic != 0 && magic != PoolLayout.MAGIC) {
                    throw new PoolException(PoolErrorReason.NOT_A_POOL, "not a jvmem pool: bad magic: " + p);
                }
                reserveHoles(o.fd(), size, p);
            }
            PoolFile f = map(o.fd(), size, "pool file " + p, true);
            f.mode = o.mode();
            return f;
        } catch (RuntimeException e) {
            Native.close(o.fd());
            throw e;
        }
    }

    private static PoolException shortFile(String p, boolean zeros) {
        return zeros ? new PoolException(PoolErrorReason.UNFORMATTED, "not a jvmem pool (no magic): " + p
                + " is shorter than a pool header (its creation was interrupted)")
                : new PoolException(PoolErrorReason.NOT_A_POOL, "not a jvmem pool: " + p + " is shorter than a pool header");
    }

    /**
     * Gives every hole of an existing pool file its pages, before the file is mapped. A sparse copy of a pool
     * ({@code cp --sparse=always}) has holes where the pool held zeros; on tmpfs even reading a hole through a shared
     * mapping takes a page, and a full file system answers that with SIGBUS, which kills the JVM inside checksum or
     * copy intrinsics. fallocate without KEEP_SIZE over [0, size) changes no byte. Refused at once
     * ({@link PoolErrorReason#NO_SPACE}) when the holes need more than the file system has free; the file's bytes and
     * size are unchanged whatever happens.
     */
    private static void reserveHoles(int fd, long size, String p) {
        if (Native.firstHole(fd, 0) >= size) {
            return; // no hole (SEEK_HOLE is exact on tmpfs; on other file systems an answer may name a hole that is none)
        }
        long allocated = Native.allocatedBytes(fd);
        if (allocated >= 0) {
            requireSpace(fd, size - allocated, p);
        }
        for (long off = 0; off < size; off += RESERVE_CHUNK) {
            if (Native.fallocate(fd, 0, off, Math.min(RESERVE_CHUNK, size - off)) != 0) {
                int errno = Native.lastErrno();
                throw new PoolException(reasonOf(errno), "cannot open pool " + p + ": it has holes (a sparse copy?) and "
                        + "they cannot be given pages: " + Native.strerror(errno) + "; its contents are unchanged");
            }
        }
    }

    /** As {@link #requireSpace(String, long, String)} for the file system of an open file that needs {@code bytes} more. */
    private static void requireSpace(int fd, long bytes, String p) {
        long free = Native.freeBytes(null, fd);
        if (bytes > 0 && free >= 0 && free < bytes) {
            throw new PoolException(PoolErrorReason.NO_SPACE, "cannot open pool " + p + ": " + bytes + " of its bytes have "
                    + "no storage yet (a sparse copy, or a create cut short) and the file system has " + free
                    + " bytes free; the file is unchanged");
        }
    }

    private static long readLong(int fd, long offset, String p) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(8, 8);
            if (Native.pread(fd, b.address(), 8, offset) != 8) {
                throw new PoolException(PoolErrorReason.IO, "cannot read pool " + p + ": "
                        + Native.strerror(Native.lastErrno()));
            }
            return b.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0);
        }
    }

    /**
     * A named pool file opened for an offline check: share-locked and read with pread, never mapped (a check writes
     * nothing, so it cannot give holes their pages first; reading a hole with pread takes no page).
     */
    static final class Reader implements AutoCloseable {
        final String path;
        final long size;
        private final int fd;

        private Reader(Opened o) {
            this.fd = o.fd();
            this.path = o.path();
            this.size = o.size();
        }

        /** Bytes [offset, offset + length) of the file, in memory of {@code arena}. */
        MemorySegment read(Arena arena, long offset, long length) {
            MemorySegment buf = arena.allocate(Math.max(1, length), SizeClasses.PAGE);
            long done = 0;
            while (done < length) {
                long r = Native.pread(fd, buf.address() + done, Math.min(length - done, 1L << 30), offset + done);
                if (r <= 0) {
                    throw new PoolException(PoolErrorReason.IO, "cannot read pool " + path + " at " + (offset + done) + ": "
                            + (r == 0 ? "the file ends there" : Native.strerror(Native.lastErrno())));
                }
                done += r;
            }
            return buf.asSlice(0, length);
        }

        @Override
        public void close() {
            Native.close(fd);
        }
    }

    /** Opens an existing pool file for {@link Reader reading} (see {@link #openExisting}). */
    static Reader openForCheck(Path path) {
        Opened o = openExisting(path, true);
        if (o.size() < PoolLayout.HEADER_BYTES) {
            boolean zeros = allZero(o.fd());
            Native.close(o.fd());
            throw shortFile(o.path(), zeros);
        }
        return new Reader(o);
    }

    private static boolean allZero(int fd) {
        try {
            for (byte b : Files.readAllBytes(Path.of("/proc/self/fd/" + fd))) {
                if (b != 0) {
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    int mode() {
        return mode;
    }

    /**
     * Reserves this named file to {@code newSize} bytes (a create killed while reserving) and maps it again; returns
     * the new mapping, which owns the descriptor and lock; this object is spent.
     */
    synchronized PoolFile reserveAgain(long newSize) {
        requireSpace(fd, newSize - size, description);
        reserve(fd, newSize, description, PoolFile::fallocate);
        PoolFile f = map(fd, newSize, description, punchable);
        f.mode = mode;
        Native.munmap(address, size);
        unmapped = true;
        return f;
    }

    /** The open file's size and mode, after checking it is a regular file we own and nobody else may write. */
    private static long[] trusted(int fd, String p) {
        Path self = Path.of("/proc/self/fd/" + fd); // stat of the open file itself: no race with a rename
        try {
            int mode = (Integer) Files.getAttribute(self, "unix:mode");
            int uid = (Integer) Files.getAttribute(self, "unix:uid");
            int me = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            if ((mode & 0170000) != 0100000) {
                throw new PoolException(PoolErrorReason.NOT_REGULAR_FILE, "refusing to open pool " + p
                        + ": not a regular file (" + PoolPaths.typeName(mode) + ")");
            }
            if (uid != me) {
                throw new PoolException(PoolErrorReason.UNSAFE_PERMISSIONS, "refusing to open pool " + p + ": owned by uid "
                        + uid + ", not by this user (uid " + me + ")");
            }
            if ((mode & 0022) != 0) {
                throw new PoolException(PoolErrorReason.UNSAFE_PERMISSIONS, "refusing to open pool " + p
                        + ": writable by group or others (mode " + Integer.toOctalString(mode & 07777) + ")");
            }
            return new long[] {(Long) Files.getAttribute(self, "unix:size"), mode};
        } catch (IOException e) {
            throw new PoolException(PoolErrorReason.IO, "cannot inspect pool " + p + ": " + e.getMessage());
        }
    }

    private static void lock(int fd, String p, int how) {
        if (Native.flock(fd, how | Native.LOCK_NB) != 0) {
            int errno = Native.lastErrno();
            throw new PoolException(reasonOf(errno), errno == Native.EWOULDBLOCK
                    ? "pool " + p + " is already open (locked by this or another process)"
                    : "cannot lock pool " + p + ": " + Native.strerror(errno));
        }
    }

    @Override
    public boolean punch(long poolOffset, long length) {
        return punchable && Native.fallocate(fd, Native.FALLOC_FL_PUNCH_HOLE | Native.FALLOC_FL_KEEP_SIZE, poolOffset, length) == 0;
    }

    @Override
    public boolean commit(long poolOffset, long length) {
        if (!punchable) {
            return true;
        }
        for (long off = 0; off < length; off += RESERVE_CHUNK) {
            long len = Math.min(RESERVE_CHUNK, length - off);
            if (Native.fallocate(fd, 0, poolOffset + off, len) != 0) {
                int errno = Native.lastErrno();
                // a free range: give back what the chunks before this one took (the kernel undoes a failed chunk)
                Native.fallocate(fd, Native.FALLOC_FL_PUNCH_HOLE | Native.FALLOC_FL_KEEP_SIZE, poolOffset, off + len);
                Errors.set(reasonOf(errno), "cannot reserve " + length + " bytes again in the pool file: "
                        + Native.strerror(errno));
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean canPunch() {
        return punchable;
    }

    /**
     * Replaces the file mapping with an anonymous placeholder and closes the file (its space goes back to the file
     * system). Returns a task that releases the placeholder, to run once nothing can touch the addresses any more.
     */
    @Override
    public synchronized Runnable unmap() {
        if (unmapped) {
            return () -> { };
        }
        unmapped = true;
        long a = Native.mmap(address, size, Native.PROT_READ_WRITE,
                Native.MAP_PRIVATE | Native.MAP_ANONYMOUS | Native.MAP_FIXED | Native.MAP_NORESERVE, -1, 0);
        if (a != address) {
            Native.munmap(address, size);
        }
        Native.close(fd);
        long addr = address;
        long len = size;
        return () -> Native.munmap(addr, len);
    }

    /** msync of a range (close-to-open pools flush at close); false with the reason in lastError on failure. */
    boolean flush(long offset, long length) {
        long start = (address + offset) & -(long) SizeClasses.PAGE;
        long end = address + offset + length;
        if (Native.msync(start, end - start, Native.MS_SYNC) != 0) {
            Errors.set(PoolErrorReason.IO, "msync failed: " + Native.strerror(Native.lastErrno()));
            return false;
        }
        return true;
    }
}
