package io.jvmem.allocator;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The pool's on-media layout. Everything the allocator needs to rebuild itself lives in the pool, and every
 * reference is an offset from the pool base, so a pool mapped at another address (a close-to-open pool reopened
 * by another process) means the same thing.
 *
 * <pre>
 *  pool offset 0                                                                    pool size
 *  +--------+----------------------+----------------------+-------------------------------+
 *  | header | page map             | live map             | heap (pages handed to users)  |
 *  | 1 page | 8 B per heap page    | 1 bit per 16 B of    |                               |
 *  |        | (see PageMap)        | heap (see LiveMap)   |                               |
 *  +--------+----------------------+----------------------+-------------------------------+
 *
 *  header (little endian):
 *     0  u64  magic "JVMEMPL\0"
 *     8  u32  major version         12  u32  minor version
 *    16  u32  kind (1 volatile, 2 close-to-open)   20 u32 reserved (0)
 *    24  u64  pool size in bytes (the file's size: a growable pool's grows)
 *    32  u64  page map offset       40  u64  live map offset
 *    48  u64  heap offset           56  u64  heap pages (in use now: a growable pool's grow)
 *    64  u64  root offset (0 = none, else a live block: checked at open)
 *    72  u32  layout name length    76  ...  layout name, UTF-8, at most 1024 bytes
 *  1104  u64  maximum size (3.0 on; 0 in 2.x: the pool size): the page map and live map are laid out for it
 *  1112  u64  the file's page size (3.0 on; 0 in 2.x: 4096): 2 MiB on a hugetlbfs of 2 MiB pages; a reopen
 *             refuses a file system whose page size differs
 *  4072  u64  CRC32C of the page map and live map, written at a clean close (close-to-open pools)
 *  4080  u64  CRC32C of bytes [0, 4080): everything above, not the state word
 *  4088  u64  state, the commit point: "CLOSED" (0x434c4f534544) = closed cleanly; anything else is not
 *             ("OPEN", 0x4f50454e, while a program uses the pool or formats it)
 * </pre>
 * The state word is aligned and written with one store, outside the header checksum, so a process killed at any
 * instant leaves either CLOSED over a complete, flushed pool or something else (refused as not closed cleanly):
 * <ul>
 *   <li>close: metadata CRC, then header checksum, msync of the whole file, then state CLOSED, msync of the header;</li>
 *   <li>open: state OPEN and msync of the header before the allocator touches any metadata;</li>
 *   <li>create and format: state OPEN first, then every field and the header checksum, the magic last (a file killed
 *       during create has no magic: "not a jvmem pool (no magic)"; with the magic, the version is always valid).</li>
 * </ul>
 * Metadata costs 8 + 32 = 40 bytes per 4 KiB heap page, under 1% of the pool; a growable pool lays it out, and
 * reserves it, for its maximum size at creation, and its heap grows in chunks after it (see {@link HeapGrowth}).
 *
 * <p>Format 3.0 added the maximum size and page size; a 2.x pool (whose layout is that of a 3.0 pool whose maximum is
 * its size) opens, and its first clean close rewrites it as 3.0. A library that reads 2.x refuses a 3.0 pool by its
 * major version, rather than misreading a grown pool's layout as corrupt.
 */
final class PoolLayout {
    static final long MAGIC = 0x004c504d454d564aL; // "JVMEMPL\0" read little endian
    static final int MAJOR = 3;
    /** 2.1 on: slab pages of a cleanly closed pool record their regions in use (see {@link PageMap}); 2.0 pools still open. */
    static final int MINOR = 0;
    /** The oldest major version this library opens (and upgrades at close). */
    static final int OLDEST_MAJOR = 2;
    static final int KIND_VOLATILE = 1;
    static final int KIND_CTO = 2;
    static final long STATE_CLOSED = 0x434C4F534544L; // "CLOSED"
    static final long STATE_OPEN = 0x4F50454EL; // "OPEN"
    static final int MAX_LAYOUT_NAME = 1024;

    static final long OFF_MAGIC = 0;
    static final long OFF_MAJOR = 8;
    static final long OFF_MINOR = 12;
    static final long OFF_KIND = 16;
    static final long OFF_RESERVED = 20;
    static final long OFF_SIZE = 24;
    static final long OFF_PAGE_MAP = 32;
    static final long OFF_LIVE_MAP = 40;
    static final long OFF_HEAP = 48;
    static final long OFF_HEAP_PAGES = 56;
    static final long OFF_ROOT = 64;
    static final long OFF_LAYOUT_LEN = 72;
    static final long OFF_LAYOUT = 76;
    static final long OFF_MAX_SIZE = 1104;
    static final long OFF_PAGE_SIZE = 1112;
    static final long OFF_META_CRC = SizeClasses.PAGE - 24;
    static final long OFF_CHECKSUM = SizeClasses.PAGE - 16;
    static final long OFF_STATE = SizeClasses.PAGE - 8;
    static final long HEADER_BYTES = SizeClasses.PAGE;

    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    /** Aligned: the state word is read and written with single 8-byte accesses. */
    private static final java.lang.invoke.VarHandle STATE_WORD =
            ValueLayout.JAVA_LONG.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN).varHandle();
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    /** Bytes the pool may grow to (its size, for a pool of fixed size): the metadata is laid out for this. */
    final long maxSize;
    final long pageMapOffset;
    final long liveMapOffset;
    final long heapOffset;
    /** Heap pages at the maximum size: the page map's and live map's capacity. */
    final long maxHeapPages;
    /** The file's page size: growth and holes come in these units (4 KiB, or a hugetlbfs's huge page). */
    final long filePageSize;

    private PoolLayout(long maxSize, long pageMapOffset, long liveMapOffset, long heapOffset, long maxHeapPages,
                       long filePageSize) {
        this.maxSize = maxSize;
        this.pageMapOffset = pageMapOffset;
        this.liveMapOffset = liveMapOffset;
        this.heapOffset = heapOffset;
        this.maxHeapPages = maxHeapPages;
        this.filePageSize = filePageSize;
    }

    /** Largest heap that fits in {@code poolSize} bytes together with its metadata (a pool of fixed size). */
    static PoolLayout compute(long poolSize) {
        return compute(poolSize, SizeClasses.PAGE);
    }

    /**
     * Layout of a pool that may grow to {@code maxSize} bytes of a file with pages of {@code filePageSize}: the heap
     * starts at a multiple of the file page size, so that every chunk the heap grows by is made of whole file pages.
     */
    static PoolLayout compute(long maxSize, long filePageSize) {
        long page = SizeClasses.PAGE;
        long pages = (maxSize - HEADER_BYTES) / (page + 8 + page / 128);
        while (pages > 0) {
            long pageMap = HEADER_BYTES;
            long liveMap = pageMap + SizeClasses.pageCeil(pages * 8);
            long heap = ceil(liveMap + SizeClasses.pageCeil(pages * page / 128), filePageSize);
            if (heap + pages * page <= maxSize) {
                return new PoolLayout(maxSize, pageMap, liveMap, heap, pages, filePageSize);
            }
            pages--;
        }
        throw new IllegalArgumentException("pool too small: " + maxSize);
    }

    static long ceil(long n, long unit) {
        return (n + unit - 1) / unit * unit;
    }

    /** Heap pages of a pool file of {@code size} bytes (0 if it does not reach the heap). */
    long heapPagesAt(long size) {
        return Math.max(0, Math.min(maxHeapPages, (size - heapOffset) / SizeClasses.PAGE));
    }

    /** The file size holding {@code heapPages} heap pages: whole file pages, at most the maximum size. */
    long sizeFor(long heapPages) {
        return Math.min(maxSize, ceil(heapOffset + heapPages * SizeClasses.PAGE, filePageSize));
    }

    long metadataBytes() {
        return heapOffset;
    }

    /**
     * Writes a fresh header (no root): state OPEN first, then every field and the header checksum, the magic last, so
     * that a kill at any point leaves a header that is refused as not closed cleanly or, during create, has no magic.
     * Over an old header (a discarded pool) the magic and version stay as they were throughout.
     */
    void format(MemorySegment pool, int kind, String layoutName, long poolSize) {
        byte[] name = layoutName == null ? new byte[0] : layoutName.getBytes(StandardCharsets.UTF_8);
        if (name.length > MAX_LAYOUT_NAME) {
            throw new IllegalArgumentException("layout name longer than " + MAX_LAYOUT_NAME + " bytes");
        }
        setState(pool, STATE_OPEN);
        java.lang.invoke.VarHandle.storeStoreFence(); // the state word lands before any other header byte
        MemorySegment h = java.lang.foreign.Arena.ofAuto().allocate(HEADER_BYTES, 8);
        h.set(LONG, OFF_MAGIC, MAGIC);
        h.set(INT, OFF_MAJOR, MAJOR);
        h.set(INT, OFF_MINOR, MINOR);
        h.set(INT, OFF_KIND, kind);
        h.set(LONG, OFF_SIZE, poolSize);
        h.set(LONG, OFF_PAGE_MAP, pageMapOffset);
        h.set(LONG, OFF_LIVE_MAP, liveMapOffset);
        h.set(LONG, OFF_HEAP, heapOffset);
        h.set(LONG, OFF_HEAP_PAGES, heapPagesAt(poolSize));
        h.set(LONG, OFF_MAX_SIZE, maxSize);
        h.set(LONG, OFF_PAGE_SIZE, filePageSize);
        h.set(INT, OFF_LAYOUT_LEN, name.length);
        MemorySegment.copy(MemorySegment.ofArray(name), 0, h, OFF_LAYOUT, name.length);
        writeChecksum(h);
        MemorySegment.copy(h, OFF_MAJOR, pool, OFF_MAJOR, OFF_STATE - OFF_MAJOR);
        java.lang.invoke.VarHandle.storeStoreFence(); // and the magic after every other one
        pool.set(LONG, OFF_MAGIC, MAGIC);
    }

    static long checksum(MemorySegment pool) {
        CRC32C crc = new CRC32C();
        crc.update(pool.asSlice(0, OFF_CHECKSUM).asByteBuffer());
        return crc.getValue();
    }

    static void writeChecksum(MemorySegment pool) {
        pool.set(LONG, OFF_CHECKSUM, checksum(pool));
    }

    /**
     * Validates a header read from media and returns the layout it describes, or throws with a one-line reason.
     * Every offset is bounds-checked against the real size before anything is derived from it.
     */
    static PoolLayout read(MemorySegment pool, long actualSize) {
        if (actualSize < HEADER_BYTES) {
            throw new PoolException(PoolErrorReason.NOT_A_POOL, "not a jvmem pool: file shorter than its header");
        }
        long magic = pool.get(LONG, OFF_MAGIC);
        if (magic == 0) {
            throw new PoolException(PoolErrorReason.UNFORMATTED,
                    "not a jvmem pool (no magic: never formatted, or its creation was interrupted)");
        }
        if (magic != MAGIC) {
            throw new PoolException(PoolErrorReason.NOT_A_POOL, "not a jvmem pool: bad magic");
        }
        if (pool.get(LONG, OFF_CHECKSUM) != checksum(pool)) {
            throw new PoolException(PoolErrorReason.CORRUPT, "pool header checksum mismatch (corrupted header)");
        }
        String version = versionProblem(pool.get(INT, OFF_MAJOR), pool.get(INT, OFF_MINOR));
        if (version != null) {
            throw new PoolException(PoolErrorReason.VERSION, version);
        }
        long size = pool.get(LONG, OFF_SIZE);
        if (size != actualSize) {
            throw new PoolException(PoolErrorReason.SIZE_MISMATCH, "pool size in header (" + size
                    + ") does not match the file (" + actualSize + ")");
        }
        long maxSize = pool.get(LONG, OFF_MAX_SIZE);
        long filePage = pool.get(LONG, OFF_PAGE_SIZE);
        if (maxSize == 0 && filePage == 0) { // 2.x: fixed size, 4 KiB pages
            maxSize = size;
            filePage = SizeClasses.PAGE;
        }
        if (maxSize < size || filePage < SizeClasses.PAGE || Long.bitCount(filePage) != 1 || filePage > (1L << 30)) {
            throw new PoolException(PoolErrorReason.CORRUPT, "pool header has an impossible maximum size " + maxSize
                    + " or page size " + filePage);
        }
        PoolLayout expected;
        try {
            expected = compute(maxSize, filePage);
        } catch (IllegalArgumentException e) {
            throw new PoolException(PoolErrorReason.CORRUPT, "pool header describes an impossible layout");
        }
        if (pool.get(LONG, OFF_PAGE_MAP) != expected.pageMapOffset || pool.get(LONG, OFF_LIVE_MAP) != expected.liveMapOffset
                || pool.get(LONG, OFF_HEAP) != expected.heapOffset
                || pool.get(LONG, OFF_HEAP_PAGES) != expected.heapPagesAt(size) || expected.heapPagesAt(size) == 0) {
            throw new PoolException(PoolErrorReason.CORRUPT, "pool header describes an impossible layout");
        }
        int len = pool.get(INT, OFF_LAYOUT_LEN);
        if (len < 0 || len > MAX_LAYOUT_NAME) {
            throw new PoolException(PoolErrorReason.CORRUPT, "pool header has an invalid layout name length " + len);
        }
        return expected;
    }

    /** The size recorded in the header (the file's, for a valid header). */
    static long size(MemorySegment pool) {
        return pool.get(LONG, OFF_SIZE);
    }

    /** Records a growth step: the new size and heap pages, then the header checksum. */
    void setSize(MemorySegment pool, long size) {
        pool.set(LONG, OFF_SIZE, size);
        pool.set(LONG, OFF_HEAP_PAGES, heapPagesAt(size));
        writeChecksum(pool);
    }

    /** Null when a pool of version major.minor can be used by this library, else why not. */
    static String versionProblem(int major, int minor) {
        if (major < OLDEST_MAJOR || major > MAJOR) {
            return "pool format version " + major + "." + minor + " is not supported (this library reads "
                    + OLDEST_MAJOR + ".x to " + MAJOR + ".x)";
        }
        return null;
    }

    static String layoutName(MemorySegment pool) {
        int len = pool.get(INT, OFF_LAYOUT_LEN);
        byte[] b = new byte[len];
        MemorySegment.copy(pool, ValueLayout.JAVA_BYTE, OFF_LAYOUT, b, 0, len);
        return new String(b, StandardCharsets.UTF_8);
    }

    static int minor(MemorySegment pool) {
        return pool.get(INT, OFF_MINOR);
    }

    /** Whether a pool closed cleanly records each slab's regions in use in its page map (format 2.1 on). */
    static boolean recordsSlabCounts(MemorySegment pool) {
        return state(pool) == STATE_CLOSED && (pool.get(INT, OFF_MAJOR) > 2 || minor(pool) >= 1);
    }

    static int kind(MemorySegment pool) {
        return pool.get(INT, OFF_KIND);
    }

    static long magic(MemorySegment pool) {
        return pool.get(LONG, OFF_MAGIC);
    }

    /** Null when the version fields name a format this library reads, else why not. */
    static String versionProblem(MemorySegment pool) {
        return versionProblem(pool.get(INT, OFF_MAJOR), pool.get(INT, OFF_MINOR));
    }

    /** Whether the header checksum matches (the state word is not covered). */
    static boolean headerIntact(MemorySegment pool) {
        return pool.get(LONG, OFF_CHECKSUM) == checksum(pool);
    }

    /** The state word: {@link #STATE_CLOSED} means closed cleanly, anything else does not. */
    static long state(MemorySegment pool) {
        return (long) STATE_WORD.getVolatile(pool, OFF_STATE);
    }

    /** The commit point: one aligned 8-byte store; the header checksum does not cover it. */
    static void setState(MemorySegment pool, long state) {
        STATE_WORD.setVolatile(pool, OFF_STATE, state);
    }

    /** CRC32C of the page map and live map (everything between the header and the heap). */
    long metadataChecksum(MemorySegment pool) {
        CRC32C crc = new CRC32C();
        crc.update(pool.asSlice(pageMapOffset, heapOffset - pageMapOffset).asByteBuffer());
        return crc.getValue();
    }

    static long storedMetadataChecksum(MemorySegment pool) {
        return pool.get(LONG, OFF_META_CRC);
    }

    /**
     * First half of a clean close: records the metadata checksum and the header checksum. The caller flushes the
     * pool, then commits with {@link #setState} CLOSED and flushes the header.
     */
    void seal(MemorySegment pool) {
        // a 2.x pool closed by this version now records its slab counts, maximum size and page size
        pool.set(INT, OFF_MAJOR, MAJOR);
        pool.set(INT, OFF_MINOR, MINOR);
        pool.set(LONG, OFF_MAX_SIZE, maxSize);
        pool.set(LONG, OFF_PAGE_SIZE, filePageSize);
        pool.set(LONG, OFF_META_CRC, metadataChecksum(pool));
        writeChecksum(pool);
    }

    static long root(MemorySegment pool) {
        return pool.get(LONG, OFF_ROOT);
    }

    static void setRoot(MemorySegment pool, long rootOffset) {
        pool.set(LONG, OFF_ROOT, rootOffset);
        writeChecksum(pool);
    }
}
