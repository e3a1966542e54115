package io.jvmem.allocator;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opening a close-to-open pool's named file safely, before anything maps it: type checks without opening, then
 * open non-blocking without following links, ownership and mode checks through the descriptor, and flock; and the
 * offline check's reader, which never maps.
 */
final class NamedFiles {
    private NamedFiles() {
    }

    /** An existing named pool file, open, checked and locked, not mapped. */
    record Opened(int fd, String path, long size, int mode) {
    }

    /**
     * Opens an existing pool file. Its type is checked first without opening it (opening a FIFO blocks, opening a
     * device may act on it); then it is opened non-blocking, without following a symbolic link and never as a
     * controlling terminal, and checked again through the descriptor (no race with a rename): a regular file of this
     * user that nobody else may write. Locked exclusively for use, shared for an offline check.
     */
    static Opened openExisting(Path path, boolean readOnly) {
        PoolPaths.checkRegularFile(path);
        String p = path.toAbsolutePath().toString();
        int flags = (readOnly ? 0 : Native.O_RDWR) | Native.O_NOFOLLOW | Native.O_NONBLOCK | Native.O_NOCTTY | Native.O_CLOEXEC;
        int fd = Native.open(p, flags, 0);
        if (fd < 0) {
            int errno = Native.lastErrno();
            throw new PoolException(PoolFile.reasonOf(errno), switch (errno) {
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

    static PoolException shortFile(String p, boolean zeros) {
        return zeros ? new PoolException(PoolErrorReason.UNFORMATTED, "not a jvmem pool (no magic): " + p
                + " is shorter than a pool header (its creation was interrupted)")
                : new PoolException(PoolErrorReason.NOT_A_POOL, "not a jvmem pool: " + p + " is shorter than a pool header");
    }

    static long readLong(int fd, long offset, String p) {
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

    static boolean allZero(int fd) {
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

    static void lock(int fd, String p, int how) {
        if (Native.flock(fd, how | Native.LOCK_NB) != 0) {
            int errno = Native.lastErrno();
            throw new PoolException(PoolFile.reasonOf(errno), errno == Native.EWOULDBLOCK
                    ? "pool " + p + " is already open (locked by this or another process)"
                    : "cannot lock pool " + p + ": " + Native.strerror(errno));
        }
    }
}
