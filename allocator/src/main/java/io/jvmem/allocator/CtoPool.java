package io.jvmem.allocator;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A close-to-open pool with libpmemcto's semantics: a named pool file whose contents survive a clean close. There is
 * no flushing while the program runs; {@link #close()} flushes everything and marks the pool consistent, and a pool
 * left open by a crash refuses to open ("not closed cleanly") unless the caller asks to discard it.
 *
 * <p>The allocator keeps all of its state in the file as offsets from the pool base, so the pool works wherever it
 * is mapped; the one user-level reference is the {@linkplain #root() root}, also stored as an offset.
 *
 * <p>Opening takes an exclusive {@code flock} (a second open, from this process or another, fails), refuses symbolic
 * links, anything but a regular file (never opened in blocking mode), files owned by another user, files writable by
 * group or others and paths through a directory anyone may write without the sticky bit; gives a sparse file's holes
 * their pages before mapping it (or refuses it when the file system has no room for them); validates the header
 * (magic, version, layout name, size, checksum) and every allocator structure, then marks the pool open on media
 * before the allocator rebuilds itself or hands out memory. Closing stops new operations, waits for those in flight,
 * returns every thread's cached blocks, writes the metadata and header checksums, flushes the whole file (msync), and
 * only then marks the pool consistent and flushes the header. Marking is one aligned 8-byte store to the header's state word (see
 * {@link PoolLayout}), so a process killed at any instant leaves a pool that either was closed cleanly or is refused as
 * not closed cleanly; a file whose creation was killed has no magic yet, and {@link #openOrCreate} with
 * {@code discardIfDirty} creates it afresh.
 */
public final class CtoPool extends PoolBase {
    /** Smallest pool, as libpmemcto's PMEMCTO_MIN_POOL. */
    public static final long MIN_POOL = 16L << 20;
    public static final int MAJOR_VERSION = PoolLayout.MAJOR;
    public static final int MINOR_VERSION = PoolLayout.MINOR;
    /** How long close waits for operations in flight before it gives up and leaves the pool marked open. */
    static final long QUIESCE_MILLIS = 10_000;

    private final PoolFile file;
    private final String layout;
    private boolean closed;
    /** Set when this open found the file not closed cleanly and, as asked, started it afresh. */
    private boolean discardedDirty;

    private CtoPool(Allocator heap, PoolFile file, Path path, String layout) {
        super(heap, path.toString(), "cto");
        this.file = file;
        this.layout = layout;
    }

    /** pmemcto_check_version: null when this library serves the required version, else why not. */
    public static String checkVersion(int major, int minor) {
        if (major != MAJOR_VERSION) {
            return "libjvmem major version mismatch (need " + major + ", found " + MAJOR_VERSION + ")";
        }
        if (minor > MINOR_VERSION) {
            return "libjvmem minor version mismatch (need " + minor + ", found " + MINOR_VERSION + ")";
        }
        return null;
    }

    public static CtoPool create(Path path, String layout, long size) {
        return create(path, layout, size, 0600, PoolOptions.DEFAULT);
    }

    /**
     * Creates a new pool file of {@code size} bytes (never an existing one, never through a symlink). {@code mode} must
     * not let group or others write. The pool is returned open. Throws {@link PoolException} with reason
     * {@link PoolErrorReason#TOO_SMALL}, {@link PoolErrorReason#BAD_ARGUMENT} (layout name),
     * {@link PoolErrorReason#UNSAFE_PERMISSIONS} (the mode, or a directory on the path anyone may write without the
     * sticky bit), {@link PoolErrorReason#EXISTS}, {@link PoolErrorReason#NO_SPACE} (the file system has less free
     * space than {@code size}: refused before the file is made), {@link PoolErrorReason#NUMA_NODE} (a policy naming a
     * node that does not exist or has no memory), {@link PoolErrorReason#IO}; on failure no file is
     * left behind.
     */
    public static CtoPool create(Path path, String layout, long size, int mode, PoolOptions options) {
        checkLayout(layout);
        checkSize(size);
        if ((mode & 0022) != 0 || (mode & ~0777) != 0) {
            throw new PoolException(PoolErrorReason.UNSAFE_PERMISSIONS, "pool mode " + Integer.toOctalString(mode)
                    + " is refused: group or others could write it");
        }
        PoolPaths.checkDirectories(PoolPaths.parentOf(path), path);
        Placement placement = Placement.of(options);
        placement.checkNodes();
        long max = Math.max(size, options.maxSize().orElse(size));
        PoolFile file = PoolFile.createNamed(path, size, mode, max, placement);
        try {
            MemorySegment seg = file.segment();
            PoolLayout geometry = PoolBase.layoutFor(file, size);
            geometry.format(seg, PoolLayout.KIND_CTO, layout, size);
            Allocator heap = new Allocator(path.getFileName().toString(), seg, geometry, file, options, true, true, true);
            markOpen(seg, file);
            return new CtoPool(heap, file, path, layout).announce(true);
        } catch (RuntimeException e) {
            file.unmap().run();
            Native.unlink(path.toAbsolutePath().toString());
            throw e;
        }
    }

    public static CtoPool open(Path path, String layout) {
        return open(path, layout, false, PoolOptions.DEFAULT);
    }

    /**
     * Opens a pool that was closed cleanly. A pool left open by a crash is refused, or, with {@code discardIfDirty},
     * formatted afresh in place (its contents are lost; the file keeps its size and mode). Throws
     * {@link PoolException} with reason {@link PoolErrorReason#NOT_CLOSED_CLEANLY}, {@link PoolErrorReason#LOCKED},
     * {@link PoolErrorReason#NOT_FOUND}, {@link PoolErrorReason#SYMLINK}, {@link PoolErrorReason#NOT_REGULAR_FILE},
     * {@link PoolErrorReason#UNSAFE_PERMISSIONS}, {@link PoolErrorReason#NO_SPACE} (a sparse file whose holes do not
     * fit: the file is left unchanged), {@link PoolErrorReason#NOT_A_POOL}, {@link PoolErrorReason#UNFORMATTED},
     * {@link PoolErrorReason#VERSION}, {@link PoolErrorReason#LAYOUT}, {@link PoolErrorReason#SIZE_MISMATCH},
     * {@link PoolErrorReason#CORRUPT}, {@link PoolErrorReason#IO}.
     */
    public static CtoPool open(Path path, String layout, boolean discardIfDirty, PoolOptions options) {
        return open(path, layout, discardIfDirty, options, 0);
    }

    /**
     * {@code createSize > 0} (openOrCreate with discardIfDirty): a file of ours, mode 0600, whose header has no magic
     * yet (its creation was killed) is created afresh in place at that size.
     */
    private static CtoPool open(Path path, String layout, boolean discardIfDirty, PoolOptions options, long createSize) {
        checkLayout(layout);
        PoolPaths.checkDirectories(PoolPaths.parentOf(path), path);
        Placement placement = Placement.of(options);
        placement.checkNodes();
        PoolFile file = PoolFile.openNamed(path, discardIfDirty ? createSize : 0, placement);
        try {
            MemorySegment seg = file.segment();
            if (createSize > 0 && discardIfDirty && interruptedCreate(seg, file)) {
                if (file.size() != createSize) {
                    file = file.reserveAgain(createSize);
                    seg = file.segment();
                }
                return format(file, path, layout, PoolLayout.compute(file.size()), options);
            }
            if (PoolLayout.magic(seg) != PoolLayout.MAGIC) {
                PoolLayout.read(seg, file.size()); // throws: not a jvmem pool
            }
            boolean closedCleanly = PoolLayout.state(seg) == PoolLayout.STATE_CLOSED;
            PoolLayout geometry;
            if (closedCleanly || PoolLayout.headerIntact(seg)) {
                try {
                    geometry = PoolLayout.read(seg, file.size());
                } catch (PoolException e) {
                    if (closedCleanly || e.reason() != PoolErrorReason.SIZE_MISMATCH) {
                        throw e;
                    }
                    geometry = null; // killed between growing the file and recording the growth in the header
                }
                if (PoolLayout.kind(seg) != PoolLayout.KIND_CTO) {
                    throw new PoolException(PoolErrorReason.NOT_A_POOL, "pool " + path + " is not a close-to-open pool");
                }
                String found = PoolLayout.layoutName(seg);
                if (!found.equals(layout)) {
                    throw new PoolException(PoolErrorReason.LAYOUT, "pool " + path + " has layout \"" + found + "\", not \""
                            + layout + "\"");
                }
            } else {
                // not closed and the header checksum torn: killed while formatting (the magic is set, so the
                // version fields are valid); nothing else in the header can be trusted
                String version = PoolLayout.versionProblem(seg);
                if (version != null) {
                    throw new PoolException(PoolErrorReason.VERSION, version);
                }
                geometry = null;
            }
            if (!closedCleanly) {
                if (!discardIfDirty) {
                    throw new PoolException(PoolErrorReason.NOT_CLOSED_CLEANLY, "pool " + path
                            + " was not closed cleanly (the program using it crashed or was killed)");
                }
                if (file.size() < MIN_POOL) {
                    throw new PoolException(PoolErrorReason.TOO_SMALL, "pool " + path
                            + " was not closed cleanly and is too small (" + file.size()
                            + " bytes) to start afresh");
                }
                CtoPool fresh = format(file, path, layout, geometry != null ? geometry : PoolBase.layoutFor(file, file.size()), options);
                fresh.discardedDirty = true;
                return fresh;
            }
            if (PoolLayout.storedMetadataChecksum(seg) != geometry.metadataChecksum(seg)) {
                throw new PoolException(PoolErrorReason.CORRUPT, "pool " + path
                        + " is corrupted: allocator metadata checksum mismatch");
            }
            List<String> problems = Checker.checkRaw(seg, geometry);
            if (!problems.isEmpty()) {
                throw new PoolException(PoolErrorReason.CORRUPT, "pool " + path + " is corrupted: " + problems.get(0)
                        + (problems.size() > 1 ? " (and " + (problems.size() - 1) + " more problems)" : ""));
            }
            // on media before the allocator rebuilds: that rewrites slab entries and may free surplus empty slabs
            markOpen(seg, file);
            Allocator heap = new Allocator(path.getFileName().toString(), seg, geometry, file, options, false, false, true);
            return new CtoPool(heap, file, path, layout).announce(false);
        } catch (RuntimeException e) {
            file.unmap().run();
            throw e;
        }
    }

    /** Formats a pool in place (discarded, or its creation interrupted) and opens it. */
    private static CtoPool format(PoolFile file, Path path, String layout, PoolLayout geometry, PoolOptions options) {
        MemorySegment seg = file.segment();
        geometry.format(seg, PoolLayout.KIND_CTO, layout, file.size()); // state OPEN first
        // a discarded pool's pages still hold old data and old bits: format, but do not claim they read as zero
        Allocator heap = new Allocator(path.getFileName().toString(), seg, geometry, file, options, true, false, true);
        markOpen(seg, file);
        return new CtoPool(heap, file, path, layout).announce(true);
    }

    /**
     * A file whose creation was killed before the magic was written: ours with mode 0600 (as create makes it), no
     * magic, and a state word that create could have left (zero, or OPEN).
     */
    private static boolean interruptedCreate(MemorySegment seg, PoolFile file) {
        if (PoolLayout.magic(seg) != 0 || file.mode() != 0600) {
            return false;
        }
        long state = PoolLayout.state(seg);
        if (state == PoolLayout.STATE_OPEN) {
            return true; // create's first store
        }
        // killed before format began: the header page is still all zeros
        return seg.asSlice(0, PoolLayout.HEADER_BYTES).mismatch(MemorySegment.ofArray(new byte[(int) PoolLayout.HEADER_BYTES])) == -1;
    }

    /**
     * Opens the pool if the file exists, else creates it with {@code size} bytes. With {@code discardIfDirty}, a pool
     * left open by a crash is started afresh, and so is a file of ours (mode 0600) whose creation was killed before it
     * became a pool. An existing pool opens with its own size (a growable pool's grown size) and maximum size,
     * whatever {@code size} and {@link PoolOptions#maxSize()} say (its contents are what it is for, and they cannot be
     * kept at another size); compare {@link #size()} with the size asked for to tell the user. Throws as
     * {@link #open} and {@link #create}.
     */
    public static CtoPool openOrCreate(Path path, String layout, long size, boolean discardIfDirty, PoolOptions options) {
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            if (discardIfDirty) {
                checkSize(size);
            }
            return open(path, layout, discardIfDirty, options, size);
        }
        return create(path, layout, size, 0600, options);
    }

    /**
     * pmemcto_check: a read-only check of a pool file that is not open: CONSISTENT if it was closed cleanly and every
     * structure validates, INCONSISTENT with the reasons, NOT_CHECKED with {@link PoolCheck#reason()} if it cannot be
     * read (a FIFO, device or other non-regular file is refused without being opened; a file open elsewhere is
     * refused). The file is read with plain file I/O, never mapped: the header and the allocator metadata (about 1% of
     * the pool) are read into memory, and a sparse file on a full file system checks like any other.
     */
    public static PoolCheck check(Path path, String layout) {
        NamedFiles.Reader file;
        try {
            PoolPaths.checkDirectories(PoolPaths.parentOf(path), path);
            file = NamedFiles.openForCheck(path);
        } catch (PoolException e) {
            return new PoolCheck(PoolCheck.Status.NOT_CHECKED, List.of(e.getMessage()), e.reason());
        }
        try (file; Arena arena = Arena.ofConfined()) {
            MemorySegment header = file.read(arena, 0, PoolLayout.HEADER_BYTES);
            PoolLayout geometry;
            try {
                geometry = PoolLayout.read(header, file.size);
            } catch (PoolException e) {
                return new PoolCheck(PoolCheck.Status.INCONSISTENT, List.of(e.getMessage()));
            }
            MemorySegment seg = file.read(arena, 0, geometry.heapOffset); // header and metadata: all the check reads
            List<String> problems = new ArrayList<>();
            if (PoolLayout.kind(seg) != PoolLayout.KIND_CTO) {
                problems.add("not a close-to-open pool");
            }
            if (!PoolLayout.layoutName(seg).equals(layout)) {
                problems.add("layout is \"" + PoolLayout.layoutName(seg) + "\", not \"" + layout + "\"");
            }
            if (PoolLayout.state(seg) != PoolLayout.STATE_CLOSED) {
                problems.add("not closed cleanly (state 0x" + Long.toHexString(PoolLayout.state(seg)) + ")");
            } else if (PoolLayout.storedMetadataChecksum(seg) != geometry.metadataChecksum(seg)) {
                problems.add("allocator metadata checksum mismatch");
            }
            problems.addAll(Checker.checkRaw(seg, geometry));
            return new PoolCheck(problems.isEmpty() ? PoolCheck.Status.CONSISTENT : PoolCheck.Status.INCONSISTENT,
                    List.copyOf(problems));
        } catch (PoolException e) {
            return new PoolCheck(PoolCheck.Status.NOT_CHECKED, List.of(e.getMessage()), e.reason());
        } catch (OutOfMemoryError e) {
            return new PoolCheck(PoolCheck.Status.NOT_CHECKED, List.of("cannot check pool " + path
                    + ": no memory for its metadata (" + e.getMessage() + ")"), PoolErrorReason.IO);
        }
    }

    private static void checkLayout(String layout) {
        if (layout == null || layout.getBytes(StandardCharsets.UTF_8).length > PoolLayout.MAX_LAYOUT_NAME) {
            throw new PoolException(PoolErrorReason.BAD_ARGUMENT, "layout name must be given and at most "
                    + PoolLayout.MAX_LAYOUT_NAME + " bytes long");
        }
    }

    private static void checkSize(long size) {
        if (size < MIN_POOL) {
            throw new PoolException(PoolErrorReason.TOO_SMALL, "pool size " + size + " is below the minimum of " + MIN_POOL
                    + " bytes (16 MiB)");
        }
    }

    /** Marks the pool open (inconsistent) on media before any memory is handed out. */
    private static void markOpen(MemorySegment seg, PoolFile file) {
        PoolLayout.setState(seg, PoolLayout.STATE_OPEN);
        if (!file.flush(0, PoolLayout.HEADER_BYTES)) {
            throw new PoolException(PoolErrorReason.IO, "cannot mark the pool open: " + MemoryPool.lastError());
        }
    }

    /** The root block's address (pmemcto_get_root_pointer), or 0 if none is set. */
    public long root() {
        heap.checkOpen();
        long off = PoolLayout.root(heap.pool);
        if (off == 0) {
            return 0;
        }
        if (off < heap.layout.heapOffset || off >= heap.poolSize) {
            throw new HeapCorruptionException("root offset " + off + " lies outside the heap");
        }
        return heap.base + off;
    }

    /**
     * Sets the root (pmemcto_set_root_pointer): a live block of this pool, or 0. Stored as an offset. A root whose
     * block is freed (or moved by realloc) before the pool is closed is cleared by {@link #close()}, so the next open
     * sees 0 rather than memory it may hand out again; a pool whose stored root names no live block is refused.
     */
    public void setRoot(long address) {
        heap.checkOpen();
        if (address != 0 && !heap.isLiveBlock(address)) {
            throw new InvalidFreeException("setRoot(0x" + Long.toHexString(address) + "): not a live block of pool " + name(), address);
        }
        synchronized (heap.headerLock) {
            PoolLayout.setRoot(heap.pool, address == 0 ? 0 : address - heap.base);
        }
    }

    public String layout() {
        return layout;
    }

    /**
     * Closes the pool: no new operations, wait for those in flight, return cached blocks, flush all data, then mark
     * the pool consistent and flush the header, in that order. A second close is a no-op. If flushing fails the pool
     * stays marked open (the next open refuses it) and a {@link PoolException} says why.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        retire();
        boolean quiet = heap.quiesce(QUIESCE_MILLIS);
        heap.shutdown();
        Malloc9.closed(this); // M_WAITOK waiters end with PoolClosedException instead of sleeping out their timeout
        try {
            if (!quiet) {
                throw new PoolException(PoolErrorReason.BUSY, "pool " + path()
                        + " not closed cleanly: an operation stayed in flight for " + QUIESCE_MILLIS + " ms");
            }
            for (ThreadCache tc : heap.caches.snapshot()) {
                heap.caches.flushAll(tc);
            }
            AtRest.record(heap); // slab counts and root, for the next open's cross-check
            heap.layout.seal(heap.pool); // metadata and header checksums; the state word stays OPEN
            if (!file.flush(0, file.size())) {
                throw new PoolException(PoolErrorReason.IO, "pool " + path() + " not closed cleanly: "
                        + MemoryPool.lastError());
            }
            PoolLayout.setState(heap.pool, PoolLayout.STATE_CLOSED); // the commit point: one aligned store
            if (!file.flush(0, PoolLayout.HEADER_BYTES)) {
                throw new PoolException(PoolErrorReason.IO, "pool " + path() + " not closed cleanly: "
                        + MemoryPool.lastError());
            }
        } finally {
            // stray reads through old addresses see zeros until this object is collected, never a crash
            PoolBase.CLEANER.register(this, file.unmap());
        }
    }

    /** Closes this pool when the JVM exits normally (Java has no library destructors). */
    public CtoPool closeAtExit() {
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("jvmem-close-" + name()).unstarted(() -> {
            try {
                close();
            } catch (RuntimeException e) {
                System.err.println("jvmem: " + e.getMessage());
            }
        }));
        return this;
    }

    /**
     * The offset of {@code address} from the pool's base: the form in which to store references inside the pool, since
     * the next open may map the pool at another address.
     */
    public long offsetOf(long address) {
        heap.checkOpen();
        if (!heap.contains(address)) {
            throw new IllegalArgumentException("0x" + Long.toHexString(address) + " is not inside pool " + name());
        }
        return address - heap.base;
    }

    /** The address of an offset obtained from {@link #offsetOf} in this or an earlier session. */
    public long addressOf(long offset) {
        heap.checkOpen();
        if (offset < heap.layout.heapOffset || offset >= heap.poolSize) {
            throw new HeapCorruptionException("offset " + offset + " lies outside the heap of pool " + name());
        }
        return heap.base + offset;
    }

    public boolean isSyncMapped() {
        return file.syncMapped;
    }

    @Override
    public String toString() {
        return "CtoPool[" + path() + ", layout " + layout + ", " + heap.poolSize + " bytes]";
    }

    /**
     * Whether opening found the pool not closed cleanly (a crash) and, as {@code discardIfDirty} asked, formatted it
     * afresh: its former contents are gone. Callers say so (the agent prints a line); the pool itself is consistent.
     */
    public boolean discardedDirtyContents() {
        return discardedDirty;
    }
}
