package io.jvmem.allocator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Checks on the path to a pool before anything there is opened: the directories on the way (as ssh's StrictModes
 * checks them) and the type of a named pool file. Whoever may rename entries in a directory on the path can swap the
 * pool file, or a directory above it, for one of their own; the sticky bit (as on /tmp and /dev/shm) limits that to
 * each entry's owner.
 */
final class PoolPaths {
    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFLNK = 0120000;
    private static final int S_ISVTX = 01000;

    private PoolPaths() {
    }

    /**
     * Refuses ({@link PoolErrorReason#UNSAFE_PERMISSIONS}) when {@code dir} or any directory above it, up to /, is
     * writable by everyone and has no sticky bit. The path as given is walked, and when it passes a symbolic link the
     * real one too: a link's own directory and its target's directories both matter. Directories that do not exist
     * are skipped (opening the pool then says what is missing).
     */
    static void checkDirectories(Path dir, Path pool) {
        boolean linked = false;
        for (Path p = dir.toAbsolutePath().normalize(); p != null; p = p.getParent()) {
            Integer mode = mode(p, pool, LinkOption.NOFOLLOW_LINKS);
            if (mode != null && (mode & S_IFMT) == S_IFLNK) {
                linked = true; // its own directory is checked as the walk goes up; its target's below
            } else if (mode != null) {
                refuseOpenDirectory(p, mode, pool);
            }
        }
        if (!linked) {
            return; // the common case: no symbolic link on the way, the real path is the one just walked
        }
        Path real;
        try {
            real = dir.toRealPath();
        } catch (IOException e) {
            return; // missing: opening the pool says so
        }
        for (Path p = real; p != null; p = p.getParent()) {
            Integer mode = mode(p, pool);
            if (mode != null) {
                refuseOpenDirectory(p, mode, pool);
            }
        }
    }

    private static Integer mode(Path p, Path pool, LinkOption... options) {
        try {
            return (Integer) Files.getAttribute(p, "unix:mode", options);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            throw new PoolException(PoolErrorReason.IO, "cannot inspect " + p + " on the way to pool " + pool + ": " + e);
        }
    }

    private static void refuseOpenDirectory(Path p, int mode, Path pool) {
        if ((mode & S_IFMT) == S_IFDIR && (mode & 0002) != 0 && (mode & S_ISVTX) == 0) {
            throw new PoolException(PoolErrorReason.UNSAFE_PERMISSIONS, "refusing pool " + pool + ": directory " + p
                    + " is writable by everyone and has no sticky bit (mode " + Integer.toOctalString(mode & 07777)
                    + "); anyone could replace what it holds");
        }
    }

    /**
     * Refuses a named pool path that is not a regular file, without opening it (opening a FIFO blocks, opening a
     * device may act on it): {@link PoolErrorReason#SYMLINK}, {@link PoolErrorReason#NOT_REGULAR_FILE}, or
     * {@link PoolErrorReason#NOT_FOUND}. The file is checked again through its descriptor once open.
     */
    static void checkRegularFile(Path file) {
        int mode;
        try {
            mode = (Integer) Files.getAttribute(file, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw new PoolException(PoolErrorReason.NOT_FOUND, "cannot open pool " + file.toAbsolutePath() + ": no such file");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            throw new PoolException(PoolErrorReason.IO, "cannot inspect pool " + file.toAbsolutePath() + ": " + e);
        }
        switch (mode & S_IFMT) {
            case S_IFREG -> { }
            case S_IFLNK -> throw new PoolException(PoolErrorReason.SYMLINK,
                    "refusing to open pool " + file.toAbsolutePath() + ": it is a symbolic link");
            default -> throw new PoolException(PoolErrorReason.NOT_REGULAR_FILE,
                    "refusing to open pool " + file.toAbsolutePath() + ": not a regular file (" + typeName(mode) + ")");
        }
    }

    static String typeName(int mode) {
        return switch (mode & S_IFMT) {
            case S_IFREG -> "regular file";
            case S_IFDIR -> "directory";
            case S_IFCHR -> "character device";
            case 0060000 -> "block device";
            case 0010000 -> "FIFO";
            case 0140000 -> "socket";
            case S_IFLNK -> "symbolic link";
            default -> "file type " + Integer.toOctalString(mode & S_IFMT);
        };
    }

    /** The directory a named pool file lives in. */
    static Path parentOf(Path file) {
        Path parent = file.toAbsolutePath().getParent();
        return parent != null ? parent : file.toAbsolutePath().getRoot();
    }
}
