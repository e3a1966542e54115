package io.jvmem.allocator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;

/**
 * Where a volatile pool's {@link PoolFile} comes from: an unlinked temporary file in a directory (libvmem's
 * vmem_create; O_TMPFILE, or O_CREAT|O_EXCL|O_NOFOLLOW then unlink, mode 0600), an anonymous memory file
 * (memfd_create), or a whole device DAX.
 */
final class PoolFiles {
    private PoolFiles() {
    }

    /** A fresh unlinked temporary file of {@code size} bytes in {@code dir}, reserved with fallocate and mapped. */
    static PoolFile createTemp(Path dir, long size) {
        return createTemp(dir, size, PoolFile::fallocate);
    }

    /** As {@link #createTemp(Path, long)} with the reservation call replaced (tests simulate a full file system). */
    static PoolFile createTemp(Path dir, long size, PoolFile.Reserver reserver) {
        String d = dir.toAbsolutePath().toString();
        int fd = openTemp(dir, size);
        try {
            PoolFile.reserve(fd, size, d, reserver);
            return PoolFile.map(fd, size, "temporary file in " + d, true);
        } catch (RuntimeException e) {
            Native.close(fd);
            throw e;
        }
    }

    /**
     * A temporary file in {@code dir} mapped into address space for {@code maxSize} bytes and placed before its
     * {@code size} bytes are reserved (see {@link #mapPlaced}).
     */
    static PoolFile createTemp(Path dir, long size, long maxSize, Placement placement) {
        String d = dir.toAbsolutePath().toString();
        int fd = openTemp(dir, size);
        try {
            return PoolFile.mapPlaced(fd, size, maxSize, placement, "temporary file in " + d, true, true);
        } catch (RuntimeException e) {
            Native.close(fd);
            throw e;
        }
    }

    /** An unlinked new file in {@code dir}, after checking the directory and that {@code size} bytes fit. */
    private static int openTemp(Path dir, long size) {
        if (!Files.isDirectory(dir)) {
            boolean exists = Files.exists(dir);
            throw new PoolException(exists ? PoolErrorReason.BAD_ARGUMENT : PoolErrorReason.NOT_FOUND,
                    "cannot create pool in " + dir + (exists ? ": not a directory" : ": no such directory"));
        }
        String d = dir.toAbsolutePath().toString();
        PoolFile.requireSpace(d, size, d);
        int fd = Native.open(d, Native.O_TMPFILE | Native.O_RDWR | Native.O_CLOEXEC, 0600);
        if (fd < 0) {
            int errno = Native.lastErrno();
            if (errno != Native.EOPNOTSUPP && errno != Native.EISDIR && errno != Native.EINVAL) {
                throw new PoolException(PoolFile.reasonOf(errno), "cannot create pool file in " + d + ": " + Native.strerror(errno));
            }
            fd = createAndUnlink(d);
        }
        return fd;
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
                throw new PoolException(PoolFile.reasonOf(errno), "cannot create pool file in " + dir + ": " + Native.strerror(errno));
            }
        }
        throw new PoolException(PoolErrorReason.IO, "cannot create pool file in " + dir + ": no unused name found");
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
            throw new PoolException(PoolFile.reasonOf(errno), "cannot open device " + d + ": " + Native.strerror(errno));
        }
        try {
            return PoolFile.map(fd, size, "device " + d, false);
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

    /**
     * A pool file with no directory behind it (memfd_create): placed and reserved like a tmpfs file. Refused
     * ({@link PoolErrorReason#NO_SPACE}) when memory cannot hold it.
     */
    static PoolFile createMemfd(String name, long size, long maxSize, Placement placement) {
        int fd = Native.memfdCreate("jvmem:" + name, Native.MFD_CLOEXEC);
        if (fd < 0) {
            int errno = Native.lastErrno();
            throw new PoolException(PoolFile.reasonOf(errno), "cannot create a memfd pool: memfd_create: " + Native.strerror(errno));
        }
        try {
            return PoolFile.mapPlaced(fd, size, maxSize, placement, "memfd " + name, true, true);
        } catch (RuntimeException e) {
            Native.close(fd);
            throw e;
        }
    }
}
