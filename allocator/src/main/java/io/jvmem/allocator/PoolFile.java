package io.jvmem.allocator;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

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
    /** Bytes of the file mapped and reserved; a growable pool's grow ({@link #extendTo}). */
    private volatile long size;
    /** Bytes of address space held for the pool from {@link #address}: its size, or its maximum size if it grows. */
    final long span;
    /** The file system's page size: sizes, growth and holes come in these units. */
    final long filePage;
    final String description;
    final boolean syncMapped;
    private final int fd;
    private final boolean punchable;
    private final Placement placement;
    private boolean unmapped;
    /** Permission bits of a named pool file as opened (0 for other files). */
    private int mode;

    private PoolFile(long address, long size, int fd, String description, boolean punchable, boolean syncMapped) {
        this(address, size, size, SizeClasses.PAGE, fd, description, punchable, syncMapped, Placement.NONE);
    }

    private PoolFile(long address, long size, long span, long filePage, int fd, String description, boolean punchable,
                     boolean syncMapped, Placement placement) {
        this.address = address;
        this.size = size;
        this.span = span;
        this.filePage = filePage;
        this.fd = fd;
        this.description = description;
        this.punchable = punchable;
        this.syncMapped = syncMapped;
        this.placement = placement;
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

    /** fallocate(2) as a reservation step: 0, or the errno it failed with (tests simulate a full file system). */
    interface Reserver {
        int fallocate(int fd, int mode, long offset, long length);
    }

    static int fallocate(int fd, int mode, long offset, long length) {
        return Native.fallocate(fd, mode, offset, length) == 0 ? 0 : Native.lastErrno();
    }

    /** Reserves [0, size) chunk by chunk; the first chunk that fails stops it (ENOSPC: {@link PoolErrorReason#NO_SPACE}). */
    static void reserve(int fd, long size, String where, Reserver reserver) {
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

    static PoolFile map(int fd, long size, String description, boolean punchable) {
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

    // ---------------------------------------------------------------- placed and growable mappings

    /** Alignment of a reserved span: whole huge pages, so that transparent huge pages and hugetlbfs can map it. */
    private static final long SPAN_ALIGN = 2L << 20;

    /**
     * Maps the open file {@code fd} into address space reserved for {@code maxSize} bytes (one PROT_NONE,
     * MAP_NORESERVE mapping, the file mapped over its start with MAP_FIXED), applies {@code placement} to the mapping,
     * and only then, for a {@code fresh} file, sets its size and reserves its pages (fallocate: a full file system
     * fails here, never with SIGBUS later; on tmpfs and hugetlbfs the reservation follows the NUMA policy). Sizes
     * must be whole pages of the file system (huge pages on hugetlbfs). On failure the mapping is gone; the caller
     * closes the descriptor.
     */
    static PoolFile mapPlaced(int fd, long size, long maxSize, Placement placement, String description, boolean fresh,
                              boolean punchable) {
        long page = Native.filePageSize(fd);
        if (page <= 0) {
            page = SizeClasses.PAGE;
        }
        if (size % page != 0) {
            throw new PoolException(PoolErrorReason.BAD_ARGUMENT, "pool size " + size + " is not a whole number of the "
                    + "file system's " + page + "-byte pages (" + description + ")");
        }
        String short_ = fresh ? memoryShort(fd, size) : null;
        if (short_ != null) {
            throw new PoolException(PoolErrorReason.NO_SPACE, "cannot reserve " + size + " bytes for " + description + ": "
                    + short_ + "; nothing was reserved");
        }
        long span = PoolLayout.ceil(Math.max(size, maxSize), page);
        long align = Math.max(page, SPAN_ALIGN);
        long raw = Native.mmap(0, span + align, Native.PROT_NONE,
                Native.MAP_PRIVATE | Native.MAP_ANONYMOUS | Native.MAP_NORESERVE, -1, 0);
        if (raw == Native.MAP_FAILED) {
            // the process's address space (or its limit) is smaller than the pool may grow to: a size problem
            throw new PoolException(PoolErrorReason.TOO_LARGE, "cannot reserve " + span + " bytes of address space for "
                    + description + ": " + Native.strerror(Native.lastErrno()));
        }
        long base = PoolLayout.ceil(raw, align);
        if (base > raw) {
            Native.munmap(raw, base - raw);
        }
        if (raw + span + align > base + span) {
            Native.munmap(base + span, raw + span + align - (base + span));
        }
        try {
            if (fresh && Native.ftruncate(fd, size) != 0) {
                int errno = Native.lastErrno();
                throw new PoolException(reasonOf(errno), "cannot size " + description + " to " + size + " bytes: "
                        + Native.strerror(errno));
            }
            int fixed = Native.MAP_FIXED;
            long a = Native.mmap(base, size, Native.PROT_READ_WRITE, Native.MAP_SHARED_VALIDATE | Native.MAP_SYNC | fixed, fd, 0);
            boolean sync = a == base;
            if (!sync) {
                a = Native.mmap(base, size, Native.PROT_READ_WRITE, Native.MAP_SHARED | fixed, fd, 0);
            }
            if (a != base) {
                throw new PoolException(PoolErrorReason.IO, "cannot map " + size + " bytes of " + description + ": "
                        + Native.strerror(Native.lastErrno()));
            }
            placement.apply(base, size, description);
            PoolFile f = new PoolFile(base, size, span, page, fd, description, punchable, sync, placement);
            if (fresh) {
                int errno = f.reserveRange(0, size);
                if (errno != 0) {
                    throw new PoolException(reasonOf(errno), "cannot reserve " + size + " bytes for a pool in "
                            + description + ": " + Native.strerror(errno));
                }
            }
            return f;
        } catch (RuntimeException e) {
            Native.munmap(base, span);
            throw e;
        }
    }

    /**
     * Grows the file and its mapping in place to {@code newSize} bytes (a whole number of file pages, within the
     * reserved span): size, map the new range at its fixed address, place it, reserve its pages. False, with the
     * reason in {@link MemoryPool#lastError()} ({@link PoolErrorReason#MAX_SIZE}, {@link PoolErrorReason#NO_SPACE},
     * {@link PoolErrorReason#IO}), and the file and mapping as they were, when any step fails.
     */
    @Override
    public synchronized boolean extendTo(long newSize) {
        long old = size;
        if (newSize <= old) {
            return true;
        }
        if (newSize > span || unmapped) {
            Errors.set(PoolErrorReason.MAX_SIZE, "cannot grow " + description + " to " + newSize + " bytes: its maximum is "
                    + span + " bytes");
            return false;
        }
        long free = Native.freeBytes(null, fd);
        String short_ = memoryShort(fd, newSize - old);
        if (short_ != null) {
            Errors.set(PoolErrorReason.NO_SPACE, "cannot grow " + description + " from " + old + " to " + newSize + " bytes: "
                    + short_);
            return false;
        }
        if (free >= 0 && free < newSize - old) {
            Errors.set(PoolErrorReason.NO_SPACE, "cannot grow " + description + " from " + old + " to " + newSize
                    + " bytes: No space left on device (the file system has " + free + " bytes free)");
            return false;
        }
        if (Native.ftruncate(fd, newSize) != 0) {
            int errno = Native.lastErrno();
            Errors.set(reasonOf(errno), "cannot grow " + description + " to " + newSize + " bytes: " + Native.strerror(errno));
            return false;
        }
        int flags = (syncMapped ? Native.MAP_SHARED_VALIDATE | Native.MAP_SYNC : Native.MAP_SHARED) | Native.MAP_FIXED;
        if (Native.mmap(address + old, newSize - old, Native.PROT_READ_WRITE, flags, fd, old) != address + old) {
            int errno = Native.lastErrno();
            undoGrowth(old, newSize);
            Errors.set(PoolErrorReason.IO, "cannot map the grown part of " + description + ": " + Native.strerror(errno));
            return false;
        }
        try {
            placement.apply(address + old, newSize - old, description);
        } catch (PoolException e) {
            undoGrowth(old, newSize);
            Errors.set(e.reason(), e.getMessage());
            return false;
        }
        int errno = reserveRange(old, newSize - old);
        if (errno != 0) {
            undoGrowth(old, newSize);
            Errors.set(reasonOf(errno), "cannot grow " + description + " from " + old + " to " + newSize + " bytes: "
                    + Native.strerror(errno));
            return false;
        }
        size = newSize;
        return true;
    }

    /**
     * Gives [offset, offset + length) of the mapped file its pages: fallocate, chunk by chunk; or, when transparent
     * huge pages are asked for, MADV_POPULATE_WRITE through the mapping, since only a fault through a mapping advised
     * MADV_HUGEPAGE gets a huge page (fallocate has no mapping and takes small ones), and it fails with an error
     * where a plain touch of a full file system would raise SIGBUS. 0, or the errno (ENOSPC for EFAULT/ENOMEM).
     */
    private int reserveRange(long offset, long length) {
        for (long off = 0; off < length; off += RESERVE_CHUNK) {
            long len = Math.min(RESERVE_CHUNK, length - off);
            if (placement.transparentHugePages) {
                if (Native.madvise(address + offset + off, len, Native.MADV_POPULATE_WRITE) != 0) {
                    int errno = Native.lastErrno();
                    if (errno != Native.EINVAL) { // EINVAL: a kernel before 5.14; fallocate instead
                        return errno == Native.EFAULT || errno == Native.ENOMEM ? Native.ENOSPC : errno;
                    }
                } else {
                    continue;
                }
            }
            if (Native.fallocate(fd, 0, offset + off, len) != 0) {
                return Native.lastErrno();
            }
        }
        return 0;
    }

    /**
     * Why memory cannot hold {@code bytes} more of a file whose file system sets no limit (a memfd, a tmpfs mounted
     * with size=0), or null: such a reservation takes memory until the machine has none left and wakes the OOM killer
     * instead of failing, so it is refused when it exceeds MemAvailable. Other file systems say no themselves.
     */
    private static String memoryShort(int fd, long bytes) {
        if (Native.freeBytes(null, fd) != Long.MAX_VALUE || Native.filePageSize(fd) != SizeClasses.PAGE) {
            return null;
        }
        long available = memAvailable();
        return available >= 0 && bytes > available ? "No space left on device (the file system sets no limit, and "
                + "memory has " + available + " bytes available)" : null;
    }

    /** MemAvailable from /proc/meminfo in bytes, or -1 if unknown. */
    static long memAvailable() {
        try {
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.substring(13).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** A failed growth step: the range back to reserved address space, the file back to its size (its pages freed). */
    private void undoGrowth(long old, long newSize) {
        Native.mmap(address + old, newSize - old, Native.PROT_NONE,
                Native.MAP_PRIVATE | Native.MAP_ANONYMOUS | Native.MAP_FIXED | Native.MAP_NORESERVE, -1, 0);
        Native.ftruncate(fd, old);
    }

    @Override
    public long filePageSize() {
        return filePage;
    }

    @Override
    public long maxSize() {
        return span;
    }

    // ---------------------------------------------------------------- named pool files (close-to-open pools)

    /**
     * Creates the pool file {@code path}: O_CREAT|O_EXCL (never an existing file), O_NOFOLLOW, the given mode; locks it
     * exclusively, reserves its space and maps it. A size beyond the file system's free space is refused before the
     * file is made; on any failure nothing is left behind.
     */
    static PoolFile createNamed(Path path, long size, int mode) {
        return createNamed(path, size, mode, size, Placement.NONE);
    }

    /** As {@link #createNamed(Path, long, int)}, growable to {@code maxSize} and placed (see {@link #mapPlaced}). */
    static PoolFile createNamed(Path path, long size, int mode, long maxSize, Placement placement) {
        String p = path.toAbsolutePath().toString();
        requireSpace(PoolPaths.parentOf(path).toString(), size, p);
        int fd = Native.open(p, Native.O_CREAT | Native.O_EXCL | Native.O_RDWR | Native.O_NOFOLLOW | Native.O_CLOEXEC, mode);
        if (fd < 0) {
            int errno = Native.lastErrno();
            throw new PoolException(reasonOf(errno), errno == Native.EEXIST ? "cannot create pool " + p + ": the file exists"
                    : "cannot create pool " + p + ": " + Native.strerror(errno));
        }
        try {
            NamedFiles.lock(fd, p, Native.LOCK_EX);
            if (maxSize > size || !placement.isDefault() || Native.filePageSize(fd) > SizeClasses.PAGE) {
                return mapPlaced(fd, size, maxSize, placement, "pool file " + p, true, true);
            }
            reserve(fd, size, p, PoolFile::fallocate);
            return map(fd, size, "pool file " + p, true);
        } catch (RuntimeException e) {
            Native.unlink(p);
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
    static PoolFile openNamed(Path path, long reserveShort, Placement placement) {
        NamedFiles.Opened o = NamedFiles.openExisting(path, false);
        String p = o.path();
        try {
            long size = o.size();
            boolean unborn = reserveShort > 0 && o.mode() == 0600;
            if (size < PoolLayout.HEADER_BYTES) {
                boolean zeros = NamedFiles.allZero(o.fd());
                if (!unborn || !zeros) {
                    throw NamedFiles.shortFile(p, zeros);
                }
                requireSpace(o.fd(), reserveShort - size, p);
                reserve(o.fd(), reserveShort, p, PoolFile::fallocate);
                size = reserveShort;
            } else {
                long magic = NamedFiles.readLong(o.fd(), PoolLayout.OFF_MAGIC, p);
                if (magic == 0 && !unborn) {
                    throw new PoolException(PoolErrorReason.UNFORMATTED, "not a jvmem pool (no magic: never formatted, "
                            + "or its creation was interrupted): " + p);
                } else if (magic != 0 && magic != PoolLayout.MAGIC) {
                    throw new PoolException(PoolErrorReason.NOT_A_POOL, "not a jvmem pool: bad magic: " + p);
                }
                reserveHoles(o.fd(), size, p);
                if (magic == PoolLayout.MAGIC) {
                    // read before the header is validated: only sizes the reservation of address space
                    long max = NamedFiles.readLong(o.fd(), PoolLayout.OFF_MAX_SIZE, p);
                    long page = NamedFiles.readLong(o.fd(), PoolLayout.OFF_PAGE_SIZE, p);
                    long fsPage = Native.filePageSize(o.fd());
                    if (page != 0 && fsPage > 0 && page != fsPage) {
                        throw new PoolException(PoolErrorReason.PAGE_SIZE, "cannot open pool " + p + ": it was made with "
                                + page + "-byte pages and its file system now has " + fsPage + "-byte pages");
                    }
                    if (max > size || !placement.isDefault() || fsPage > SizeClasses.PAGE) {
                        PoolFile f = mapPlaced(o.fd(), size, Math.max(size, Math.min(max, 1L << 46)), placement,
                                "pool file " + p, false, true);
                        f.mode = o.mode();
                        return f;
                    }
                }
            }
            PoolFile f = map(o.fd(), size, "pool file " + p, true);
            f.mode = o.mode();
            return f;
        } catch (RuntimeException e) {
            Native.close(o.fd());
            throw e;
        }
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

    @Override
    public boolean punch(long poolOffset, long length) {
        if (!punchable) {
            return false;
        }
        long start = poolOffset;
        long end = poolOffset + length;
        if (filePage > SizeClasses.PAGE) {
            // huge pages go back whole: punch the ones inside the range, zero the parts of those at its edges (the
            // caller marks the whole range as reading zero); a range holding no whole huge page stays as it is
            start = PoolLayout.ceil(poolOffset, filePage);
            end = (poolOffset + length) / filePage * filePage;
            if (end <= start) {
                return false;
            }
            Allocator.all().asSlice(address + poolOffset, start - poolOffset).fill((byte) 0);
            Allocator.all().asSlice(address + end, poolOffset + length - end).fill((byte) 0);
        }
        return Native.fallocate(fd, Native.FALLOC_FL_PUNCH_HOLE | Native.FALLOC_FL_KEEP_SIZE, start, end - start) == 0;
    }

    @Override
    public boolean commit(long poolOffset, long length) {
        if (!punchable) {
            return true;
        }
        if (placement.transparentHugePages) {
            int errno = reserveRange(poolOffset, length);
            if (errno != 0) {
                Native.fallocate(fd, Native.FALLOC_FL_PUNCH_HOLE | Native.FALLOC_FL_KEEP_SIZE, poolOffset, length);
                Errors.set(reasonOf(errno), "cannot reserve " + length + " bytes again in the pool file: "
                        + Native.strerror(errno));
                return false;
            }
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
        long a = Native.mmap(address, span, Native.PROT_READ_WRITE,
                Native.MAP_PRIVATE | Native.MAP_ANONYMOUS | Native.MAP_FIXED | Native.MAP_NORESERVE, -1, 0);
        if (a != address) {
            Native.munmap(address, span);
        }
        Native.close(fd);
        long addr = address;
        long len = span;
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
