package io.jvmem.allocator;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;

/**
 * The memory under a pool, through FFM system calls: an unlinked temporary file in a directory (libvmem's
 * vmem_create) other than a tmpfs one (see {@link TmpfsFile}), a whole device DAX, or a close-to-open pool's named
 * file. Files are created 0600 without following symlinks (O_TMPFILE, or
 * O_CREAT|O_EXCL|O_NOFOLLOW then unlink), their space reserved up front in chunks with fallocate so a full file
 * system fails here and not with SIGBUS on first touch, and mapped shared read-write (MAP_SYNC first, for DAX).
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
        return createTemp(dir, size, Native::fallocate);
    }

    interface Reserver {
        int fallocate(int fd, int mode, long offset, long length);
    }

    /** As {@link #createTemp(Path, long)} with the reservation call replaced (tests simulate a full file system). */
    static PoolFile createTemp(Path dir, long size, Reserver reserver) {
        if (!Files.isDirectory(dir)) {
            throw new PoolException("cannot create pool in " + dir + ": not a directory");
        }
        String d = dir.toAbsolutePath().toString();
        int fd = Native.open(d, Native.O_TMPFILE | Native.O_RDWR | Native.O_CLOEXEC, 0600);
        if (fd < 0) {
            int errno = Native.lastErrno();
            if (errno != Native.EOPNOTSUPP && errno != Native.EISDIR && errno != Native.EINVAL) {
                throw new PoolException("cannot create pool file in " + d + ": " + Native.strerror(errno));
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
            if (errno != 17 /* EEXIST */) {
                throw new PoolException("cannot create pool file in " + dir + ": " + Native.strerror(errno));
            }
        }
        throw new PoolException("cannot create pool file in " + dir + ": no unused name found");
    }

    private static void reserve(int fd, long size, String where, Reserver reserver) {
        for (long off = 0; off < size; off += RESERVE_CHUNK) {
            long len = Math.min(RESERVE_CHUNK, size - off);
            if (reserver.fallocate(fd, 0, off, len) != 0) {
                int errno = Native.lastErrno();
                throw new PoolException("cannot reserve " + size + " bytes for a pool in " + where + ": "
                        + Native.strerror(errno) + " (after " + off + " bytes)");
            }
        }
    }

    /** The whole device DAX at {@code device}; its size comes from sysfs. */
    static PoolFile openDevice(Path device) {
        long size = deviceSize(device);
        return openDevice(device, size);
    }

    static PoolFile openDevice(Path device, long size) {
        String d = device.toAbsolutePath().toString();
        int fd = Native.open(d, Native.O_RDWR | Native.O_CLOEXEC, 0);
        if (fd < 0) {
            throw new PoolException("cannot open device " + d + ": " + Native.strerror(Native.lastErrno()));
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
                throw new PoolException("cannot determine the size of device " + device + ": no " + sys
                        + " (not a device DAX?)");
            }
            return Long.parseLong(Files.readString(sys).trim());
        } catch (IOException | NumberFormatException e) {
            throw new PoolException("cannot determine the size of device " + device + ": " + e.getMessage());
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
            throw new PoolException("cannot map " + size + " bytes of " + description + ": " + Native.strerror(Native.lastErrno()));
        }
        return new PoolFile(a, size, fd, description, punchable, sync);
    }

    // ---------------------------------------------------------------- named pool files (close-to-open pools)

    /**
     * Creates the pool file {@code path}: O_CREAT|O_EXCL (never an existing file), O_NOFOLLOW, the given mode; locks it
     * exclusively, reserves its space and maps it. On failure nothing is left behind.
     */
    static PoolFile createNamed(Path path, long size, int mode) {
        String p = path.toAbsolutePath().toString();
        int fd = Native.open(p, Native.O_CREAT | Native.O_EXCL | Native.O_RDWR | Native.O_NOFOLLOW | Native.O_CLOEXEC, mode);
        if (fd < 0) {
            int errno = Native.lastErrno();
            throw new PoolException(errno == Native.EEXIST ? "cannot create pool " + p + ": the file exists"
                    : "cannot create pool " + p + ": " + Native.strerror(errno));
        }
        try {
            lock(fd, p, Native.LOCK_EX);
            reserve(fd, size, p, Native::fallocate);
            return map(fd, size, "pool file " + p, true);
        } catch (RuntimeException e) {
            Native.unlink(p);
            Native.close(fd);
            throw e;
        }
    }

    /**
     * Opens an existing pool file for use, refusing a symbolic link, anything but a regular file, a file owned by
     * another user and a file writable by group or others; takes an exclusive lock (a second open, from this process or
     * another, fails) and maps it. {@code readOnly} maps it read-only under a shared lock (offline check).
     */
    static PoolFile openNamed(Path path, boolean readOnly) {
        return openNamed(path, readOnly, 0);
    }

    /**
     * As {@link #openNamed(Path, boolean)}; {@code reserveShort > 0} lets a file of ours with mode 0600 that is
     * shorter than a pool header and holds only zeros (a create killed before or while reserving its space) be
     * reserved to that size instead of refused.
     */
    static PoolFile openNamed(Path path, boolean readOnly, long reserveShort) {
        String p = path.toAbsolutePath().toString();
        int fd = Native.open(p, (readOnly ? 0 : Native.O_RDWR) | Native.O_NOFOLLOW | Native.O_CLOEXEC, 0);
        if (fd < 0) {
            int errno = Native.lastErrno();
            throw new PoolException(switch (errno) {
                case Native.ELOOP -> "refusing to open pool " + p + ": it is a symbolic link";
                case Native.ENOENT -> "cannot open pool " + p + ": no such file";
                default -> "cannot open pool " + p + ": " + Native.strerror(errno);
            });
        }
        try {
            long[] st = trusted(fd, p);
            long size = st[0];
            int mode = (int) st[1] & 07777;
            lock(fd, p, readOnly ? Native.LOCK_SH : Native.LOCK_EX);
            if (size < PoolLayout.HEADER_BYTES) {
                if (reserveShort <= 0 || readOnly || mode != 0600 || !allZero(fd)) {
                    throw new PoolException("not a jvmem pool (no magic): " + p + " is shorter than a pool header");
                }
                reserve(fd, reserveShort, p, Native::fallocate);
                size = reserveShort;
            }
            PoolFile f = map(fd, size, "pool file " + p, true, readOnly ? Native.PROT_READ : Native.PROT_READ_WRITE);
            f.mode = mode;
            return f;
        } catch (RuntimeException e) {
            Native.close(fd);
            throw e;
        }
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
        reserve(fd, newSize, description, Native::fallocate);
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
                throw new PoolException("refusing to open pool " + p + ": not a regular file");
            }
            if (uid != me) {
                throw new PoolException("refusing to open pool " + p + ": owned by uid " + uid + ", not by this user (uid " + me + ")");
            }
            if ((mode & 0022) != 0) {
                throw new PoolException("refusing to open pool " + p + ": writable by group or others (mode "
                        + Integer.toOctalString(mode & 07777) + ")");
            }
            return new long[] {(Long) Files.getAttribute(self, "unix:size"), mode};
        } catch (IOException e) {
            throw new PoolException("cannot inspect pool " + p + ": " + e.getMessage());
        }
    }

    private static void lock(int fd, String p, int how) {
        if (Native.flock(fd, how | Native.LOCK_NB) != 0) {
            int errno = Native.lastErrno();
            throw new PoolException(errno == Native.EWOULDBLOCK
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
                Errors.set("cannot reserve " + length + " bytes again in the pool file: " + Native.strerror(Native.lastErrno()));
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
            Errors.set("msync failed: " + Native.strerror(Native.lastErrno()));
            return false;
        }
        return true;
    }
}
