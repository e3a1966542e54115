package io.jvmem.allocator;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The unlinked temporary file of a volatile pool on tmpfs, made entirely through the JDK's file API: created
 * {@code CREATE_NEW} with {@code NOFOLLOW_LINKS} and mode 0600, unlinked at once, mapped with
 * {@code FileChannel.map(READ_WRITE, 0, size, arena)}. Creating it makes no FFM downcall, whose first use costs about
 * 100 ms (a start-up cost an agent would add to every program). Space is reserved by writing zeros, which on tmpfs
 * allocates the pages and fails with ENOSPC exactly as fallocate does; freed pages go back with madvise(MADV_REMOVE)
 * on the mapping (the first punch then pays the linker's start, off the allocation paths).
 *
 * <p><b>Reserved up to a watermark.</b> {@code reservedEnd} bytes from the start of the file are reserved. Normally
 * that is the whole file before the pool exists. With background reservation ({@link PoolOptions#reserveInBackground})
 * creation checks the file system's free space, the pool reserves its metadata and first pages, and a daemon thread
 * reserves the rest a step at a time; the page allocator calls {@link #reserveUpTo} before it hands out a run, so a
 * page is always reserved before anyone touches it (never SIGBUS), and a file system that filled up meanwhile gives a
 * clean out-of-memory. Pages beyond the watermark have never been handed out, so writing zeros there loses nothing.
 *
 * <p><b>Never the whole file system for nothing.</b> A pool larger than the file system's free space is refused before
 * any page is taken, and a reservation step that fails gives back the pages it took before failing, so a failure
 * leaves the file system as it found it (ENOSPC from writing zeros is the only way tmpfs says no; every failed
 * reservation is {@link PoolErrorReason#NO_SPACE}).
 */
final class TmpfsFile implements MappedFile {
    /**
     * Largest tmpfs pool reserved up front this way. Writing zeros reserves about 0.4–0.6 ms per MiB here, fallocate
     * about 0.2 ms (it leaves the zeroing to the first touch) after the FFM linker's ~100 ms first use: up to this
     * size this is the faster start, beyond it fallocate is (unless the rest is reserved in the background).
     */
    static final long UP_FRONT_MAX = 256L << 20;
    /** Zeros written per call. */
    private static final int ZERO_CHUNK = 256 << 10;
    /** Pages reserved per background step: an allocation that needs more waits at most for one step. */
    private static final long BACKGROUND_STEP = 16L << 20;
    /** Least reserved by an allocation that finds the background behind: the wait stays about a millisecond. */
    private static final long FOREGROUND_STEP = 2L << 20;
    /**
     * The background reservation starts this long after creation, or at once when an allocation first needs pages
     * beyond the part reserved at creation. A program's start-up (and a short program's whole run) then does not share
     * its cores with writing zeros: an agent's 64 MiB pool took 54 ms of CPU time from a hello world's start-up.
     */
    static final long BACKGROUND_DELAY_NANOS = 500_000_000L;
    /** Tests: the delay in use. */
    static volatile long backgroundDelayNanos = BACKGROUND_DELAY_NANOS;
    /** Zeros written per call; read-only, shared by every reservation (each write uses its own duplicate). */
    private static volatile ByteBuffer zeros;
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));

    /** Tests: holds background reservation (between steps) while set. */
    static volatile boolean backgroundPaused;

    final long address;
    final long size;
    private final String description;
    private final FileChannel channel;
    private final Arena mapping;
    private volatile long reservedEnd;
    private final Object reserveLock = new Object();
    /** Guarded by reserveLock: why the last reservation failed (null if none), and whether the file was released. */
    private String reserveFailure;
    private boolean released;
    /**
     * Guarded by reserveLock: a background reservation waits to start, and an allocation needed pages beyond the
     * reserved part, so it starts now.
     */
    private boolean backgroundWaiting;
    private boolean backgroundWanted;
    /** Tests simulate a full file system once this many bytes are reserved. */
    private final long failAfter;
    private boolean unmapped;

    private TmpfsFile(MemorySegment seg, FileChannel channel, Arena mapping, String description, long reservedEnd,
                      long failAfter) {
        this.address = seg.address();
        this.size = seg.byteSize();
        this.channel = channel;
        this.mapping = mapping;
        this.description = description;
        this.reservedEnd = reservedEnd;
        this.failAfter = failAfter;
    }

    static boolean isTmpfs(Path dir) {
        try {
            return Files.isDirectory(dir) && "tmpfs".equals(Files.getFileStore(dir).type());
        } catch (IOException | SecurityException e) {
            return false;
        }
    }

    static TmpfsFile create(Path dir, long size, boolean background) {
        return create(dir, size, background, Long.MAX_VALUE);
    }

    /**
     * A new unlinked file of {@code size} bytes in the tmpfs directory {@code dir}, mapped; reserved whole, or with
     * {@code background} not yet. Refused ({@link PoolErrorReason#NO_SPACE}) before anything is made when the file
     * system has less free space than {@code size}. {@code failAfter}: tests simulate a full file system once that
     * many bytes are reserved.
     */
    static TmpfsFile create(Path dir, long size, boolean background, long failAfter) {
        String d = dir.toAbsolutePath().toString();
        long free = usableSpace(dir);
        if (free < size) {
            throw PoolFile.noSpace(size, d, free);
        }
        FileChannel ch = createUnlinked(dir, d);
        Arena arena = null;
        try {
            if (!background) {
                String failure = writeZeros(ch, 0, size, failAfter);
                if (failure != null) {
                    throw new PoolException(PoolErrorReason.NO_SPACE, "cannot reserve " + size + " bytes for a pool in "
                            + d + ": " + failure);
                }
            } // else mapping extends the file, sparse, to its size; pages are reserved as the pool grows into them
            arena = Arena.ofShared();
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
            return new TmpfsFile(seg, ch, arena, "temporary file in " + d, background ? 0 : size, failAfter);
        } catch (IOException | RuntimeException e) {
            if (arena != null) {
                arena.close();
            }
            closeQuietly(ch);
            throw e instanceof PoolException pe ? pe
                    : new PoolException(PoolErrorReason.IO, "cannot map " + size + " bytes of a temporary file in " + d + ": "
                    + reason(e));
        }
    }

    private static FileChannel createUnlinked(Path dir, String d) {
        for (int attempt = 0; attempt < 100; attempt++) {
            // a random name only avoids collisions: CREATE_NEW and NOFOLLOW_LINKS make a planted file or link harmless
            Path name = dir.toAbsolutePath().resolve(".jvmem-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE));
            FileChannel ch;
            try {
                ch = FileChannel.open(name, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                        StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS), OWNER_ONLY);
            } catch (FileAlreadyExistsException e) {
                continue;
            } catch (IOException e) {
                throw new PoolException(e instanceof java.nio.file.NoSuchFileException ? PoolErrorReason.NOT_FOUND
                        : PoolErrorReason.IO, "cannot create pool file in " + d + ": " + reason(e));
            }
            try {
                Files.delete(name);
            } catch (IOException e) {
                closeQuietly(ch);
                throw new PoolException(PoolErrorReason.IO, "cannot unlink the pool file " + name + ": " + reason(e));
            }
            return ch;
        }
        throw new PoolException(PoolErrorReason.IO, "cannot create pool file in " + d + ": no unused name found");
    }

    /** Writes zeros over [offset, offset + length): tmpfs allocates the pages. Null, or why it stopped (ENOSPC). */
    private static String writeZeros(FileChannel ch, long offset, long length, long failAfter) {
        try {
            ByteBuffer z = zeroChunk().duplicate();
            long done = 0;
            while (done < length) {
                if (offset + done >= failAfter) {
                    return "No space left on device (simulated) (after " + done + " bytes)";
                }
                z.clear().limit((int) Math.min(z.capacity(), length - done));
                done += ch.write(z, offset + done);
            }
            return null;
        } catch (IOException e) {
            return reason(e);
        }
    }

    /**
     * A direct buffer of zeros, made once: the JDK zeroes it natively, where a new segment's zeroing ran in the
     * interpreter at start-up (6 ms), and a heap buffer would leave a temporary direct copy cached in each writing thread.
     */
    private static ByteBuffer zeroChunk() {
        ByteBuffer z = zeros;
        if (z == null) {
            z = ByteBuffer.allocateDirect(ZERO_CHUNK).asReadOnlyBuffer();
            zeros = z; // racing threads make one each; one is kept
        }
        return z;
    }

    /** Free bytes of the file system; {@link Long#MAX_VALUE} for a tmpfs mounted without a limit (size=0). */
    private static long usableSpace(Path dir) {
        try {
            java.nio.file.FileStore store = Files.getFileStore(dir);
            return store.getTotalSpace() == 0 ? Long.MAX_VALUE : store.getUsableSpace();
        } catch (IOException e) {
            throw new PoolException(PoolErrorReason.IO, "cannot create pool in " + dir + ": " + reason(e));
        }
    }

    private static String reason(Exception e) {
        String m = e.getMessage();
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            m = f.getReason();
        }
        return m == null ? e.toString() : m;
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to keep: the file is unlinked
        }
    }

    @Override
    public MemorySegment segment() {
        return MemorySegment.ofAddress(address).reinterpret(size);
    }

    @Override
    public long size() {
        return size;
    }

    // ---------------------------------------------------------------- reservation

    @Override
    public boolean reserveUpTo(long end) {
        if (end <= reservedEnd) {
            return true;
        }
        synchronized (reserveLock) {
            if (released) {
                return false;
            }
            if (end <= reservedEnd) {
                return true;
            }
            if (backgroundWaiting && !backgroundWanted) {
                backgroundWanted = true;
                reserveLock.notifyAll(); // the program uses the pool: the background reservation need not wait
            }
            return reserveStep(Math.min(size, Math.max(end, reservedEnd + FOREGROUND_STEP)));
        }
    }

    /** Reserves [reservedEnd, to); the caller holds reserveLock. A step that fails gives back what it took. */
    private boolean reserveStep(long to) {
        long from = reservedEnd;
        String failure = writeZeros(channel, from, to - from, failAfter);
        if (failure != null) {
            reserveFailure = failure;
            Native.madvise(address + from, to - from, Native.MADV_REMOVE); // never handed out: nothing to keep
            Errors.set(PoolErrorReason.NO_SPACE, "cannot reserve pages " + from + ".." + to + " of the pool file ("
                    + description + "): " + failure);
            return false;
        }
        reserveFailure = null;
        reservedEnd = to;
        return true;
    }

    @Override
    public void reserveRestInBackground() {
        if (reservedEnd >= size) {
            return;
        }
        synchronized (reserveLock) {
            backgroundWaiting = true;
        }
        Thread.ofPlatform().daemon().name("jvmem-reserve").start(new Runnable() { // no lambda: start-up
            @Override
            public void run() {
                if (!awaitStart()) {
                    return;
                }
                while (true) {
                    while (backgroundPaused) {
                        Thread.onSpinWait();
                    }
                    synchronized (reserveLock) {
                        if (released || reservedEnd >= size || reserveFailure != null) {
                            return; // done, deleted, or full: allocations beyond reserve (or fail) themselves
                        }
                        reserveStep(Math.min(size, reservedEnd + BACKGROUND_STEP));
                    }
                }
            }
        });
    }

    /** Waits {@link #BACKGROUND_DELAY_NANOS}, or less if an allocation went beyond the reserved part; false if released. */
    private boolean awaitStart() {
        long deadline = System.nanoTime() + backgroundDelayNanos;
        synchronized (reserveLock) {
            long left;
            while (!backgroundWanted && !released && (left = deadline - System.nanoTime()) > 0) {
                try {
                    reserveLock.wait(left / 1_000_000 + 1);
                } catch (InterruptedException e) {
                    return false; // nobody interrupts this daemon; if someone does, allocations reserve themselves
                }
            }
            return !released;
        }
    }

    /** Bytes reserved from the start of the file. */
    long reservedBytes() {
        return reservedEnd;
    }

    /** Why the last reservation step failed, or null (tests). */
    String reserveFailure() {
        synchronized (reserveLock) {
            return reserveFailure;
        }
    }

    // ---------------------------------------------------------------- Backing

    @Override
    public boolean punch(long poolOffset, long length) {
        return Native.madvise(address + poolOffset, length, Native.MADV_REMOVE) == 0;
    }

    @Override
    public boolean commit(long poolOffset, long length) {
        String failure = writeZeros(channel, poolOffset, length, Long.MAX_VALUE); // a free range: zeros are its contents
        if (failure != null) {
            Native.madvise(address + poolOffset, length, Native.MADV_REMOVE); // give back what the failed write took
            Errors.set(PoolErrorReason.NO_SPACE, "cannot reserve " + length + " bytes again in the pool file: " + failure);
            return false;
        }
        return true;
    }

    @Override
    public boolean canPunch() {
        return true;
    }

    @Override
    public synchronized Runnable unmap() {
        if (unmapped) {
            return () -> { };
        }
        unmapped = true;
        synchronized (reserveLock) {
            released = true; // the background reservation stops before the channel closes
            reserveLock.notifyAll();
        }
        long a = Native.mmap(address, size, Native.PROT_READ_WRITE,
                Native.MAP_PRIVATE | Native.MAP_ANONYMOUS | Native.MAP_FIXED | Native.MAP_NORESERVE, -1, 0);
        closeQuietly(channel);
        if (a != address) {
            mapping.close();
            return () -> { };
        }
        return mapping::close; // the arena's munmap now releases the placeholder
    }
}
