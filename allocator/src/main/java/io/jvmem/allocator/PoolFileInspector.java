package io.jvmem.allocator;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Read-only inspection of a close-to-open pool file that is not open, for tools (the {@code jvmem} CLI, after
 * pmempool's info, check and dump): the header as it is on media, a check, statistics walked from the page map and
 * live map, and the bytes of a block. The file is read with {@code pread}, never mapped, never locked exclusively and
 * never written, so a pool left open by a crash can be looked at without changing it (it stays "not closed cleanly").
 * The header and allocator metadata (about 1% of the pool) are read once, at {@link #open}. Not thread-safe.
 */
public final class PoolFileInspector implements AutoCloseable {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final NamedFiles.Reader file;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment header;
    /** Null when the header does not describe a usable layout (the reason is in {@link #layoutProblem}). */
    private final PoolLayout layout;
    private final PoolException layoutProblem;
    private MemorySegment metadata;

    private PoolFileInspector(Path path, NamedFiles.Reader file) {
        this.path = path;
        this.file = file;
        this.header = file.read(arena, 0, PoolLayout.HEADER_BYTES);
        PoolLayout l = null;
        PoolException problem = null;
        try {
            l = PoolLayout.read(header, file.size);
        } catch (PoolException e) {
            problem = e;
        }
        this.layout = l;
        this.layoutProblem = problem;
    }

    /**
     * Opens {@code path} for reading.
     *
     * @throws PoolException {@code NOT_FOUND}, {@code NOT_REGULAR_FILE}, {@code SYMLINK}, {@code UNSAFE_PERMISSIONS},
     *                       {@code LOCKED} (open in a running program), {@code NOT_A_POOL} or {@code UNFORMATTED} (a
     *                       file shorter than a header), {@code IO}
     */
    public static PoolFileInspector open(Path path) {
        PoolPaths.checkDirectories(PoolPaths.parentOf(path), path);
        return new PoolFileInspector(path, NamedFiles.openForCheck(path));
    }

    /** The header as found, whether or not it is valid; {@code problem} says what is wrong with it, or is null. */
    public record Info(Path path, long fileSize, boolean magic, int major, int minor, String kind, String layout,
                       long size, String state, long pageMapOffset, long liveMapOffset, long heapOffset, long heapPages,
                       long rootOffset, boolean headerChecksumOk, String problem) {
    }

    public Info info() {
        long magic = header.get(LONG, PoolLayout.OFF_MAGIC);
        int kind = header.get(INT, PoolLayout.OFF_KIND);
        long state = header.get(LONG, PoolLayout.OFF_STATE);
        int len = header.get(INT, PoolLayout.OFF_LAYOUT_LEN);
        String layoutName = len >= 0 && len <= PoolLayout.MAX_LAYOUT_NAME ? PoolLayout.layoutName(header) : "";
        return new Info(path, file.size, magic == PoolLayout.MAGIC, header.get(INT, PoolLayout.OFF_MAJOR),
                header.get(INT, PoolLayout.OFF_MINOR),
                kind == PoolLayout.KIND_CTO ? "cto" : kind == PoolLayout.KIND_VOLATILE ? "volatile" : "unknown (" + kind + ")",
                layoutName, header.get(LONG, PoolLayout.OFF_SIZE),
                state == PoolLayout.STATE_CLOSED ? "closed" : state == PoolLayout.STATE_OPEN ? "open (not closed cleanly)"
                        : "unknown (0x" + Long.toHexString(state) + ")",
                header.get(LONG, PoolLayout.OFF_PAGE_MAP), header.get(LONG, PoolLayout.OFF_LIVE_MAP),
                header.get(LONG, PoolLayout.OFF_HEAP), header.get(LONG, PoolLayout.OFF_HEAP_PAGES),
                header.get(LONG, PoolLayout.OFF_ROOT), header.get(LONG, PoolLayout.OFF_CHECKSUM) == PoolLayout.checksum(header),
                layoutProblem == null ? null : layoutProblem.getMessage());
    }

    /** {@link CtoPool#check} with the layout name the file itself holds. */
    public PoolCheck check() {
        if (layoutProblem != null) {
            return new PoolCheck(PoolCheck.Status.INCONSISTENT, List.of(layoutProblem.getMessage()));
        }
        return CtoPool.check(path, PoolLayout.layoutName(header));
    }

    private MemorySegment metadata() {
        if (layout == null) {
            throw layoutProblem;
        }
        if (metadata == null) {
            metadata = file.read(arena, 0, layout.heapOffset);
        }
        return metadata;
    }

    /**
     * What the file holds, walked from its page map and live map: blocks, bytes, pages by state, per size class.
     *
     * @throws PoolException if the header is not valid ({@code CORRUPT}, {@code NOT_A_POOL}, …), or the page map
     *                       cannot be walked ({@code CORRUPT})
     */
    public FileStats stats() {
        MemorySegment seg = metadata();
        PageMap map = new PageMap(seg, layout, layout.heapPagesAt(file.size));
        LiveMap live = new LiveMap(seg, layout);
        Map<Long, long[]> classes = new LinkedHashMap<>(); // size (-1 huge) → blocks, bytes, pages
        long blocks = 0;
        long bytes = 0;
        long freePages = 0;
        long purgedPages = 0;
        long largestFree = 0;
        long slabPages = 0;
        long runPages = 0;
        long p = 0;
        while (p < map.pages) {
            long e = map.get(p);
            long n = PageAllocator.runLength(p, e);
            if (n <= 0 || p + n > map.pages) {
                throw new PoolException(PoolErrorReason.CORRUPT, "page " + p + ": entry 0x" + Long.toHexString(e)
                        + " does not start a run that fits the heap");
            }
            switch (PageMap.kind(e)) {
                case PageMap.FREE -> {
                    freePages += n;
                    largestFree = Math.max(largestFree, n);
                    if ((e & PageMap.DECOMMITTED) != 0) {
                        purgedPages += n;
                    }
                }
                case PageMap.LARGE -> {
                    if (live.isSet(p << SizeClasses.LG_PAGE)) {
                        long size = PageMap.cls(e) == PageMap.HUGE_CLASS ? -1 : SizeClasses.size(PageMap.cls(e));
                        long[] c = classes.computeIfAbsent(size, k -> new long[3]);
                        c[0]++;
                        c[1] += n << SizeClasses.LG_PAGE;
                        blocks++;
                        bytes += n << SizeClasses.LG_PAGE;
                    }
                    runPages += n;
                }
                default -> { // a slab: count its live regions
                    int cls = PageMap.cls(e);
                    long size = SizeClasses.size(cls);
                    long start = p << SizeClasses.LG_PAGE;
                    long[] c = classes.computeIfAbsent(size, k -> new long[3]);
                    for (int r = 0; r < SizeClasses.slabRegions(cls); r++) {
                        if (live.isSet(start + r * size)) {
                            c[0]++;
                            c[1] += size;
                            blocks++;
                            bytes += size;
                        }
                    }
                    c[2] += n;
                    slabPages += n;
                }
            }
            p += n;
        }
        List<ClassStats> rows = new ArrayList<>();
        classes.entrySet().stream().sorted(Map.Entry.comparingByKey((a, b) -> Long.compare(a < 0 ? Long.MAX_VALUE : a,
                b < 0 ? Long.MAX_VALUE : b))).forEach(en -> {
                    if (en.getValue()[0] > 0 || en.getValue()[2] > 0) {
                        rows.add(new ClassStats(en.getKey(), en.getValue()[0], en.getValue()[1], en.getValue()[2]));
                    }
                });
        return new FileStats(file.size, layout.metadataBytes(), (layout.heapPagesAt(file.size) << SizeClasses.LG_PAGE), blocks, bytes,
                freePages << SizeClasses.LG_PAGE, purgedPages << SizeClasses.LG_PAGE, largestFree << SizeClasses.LG_PAGE,
                slabPages << SizeClasses.LG_PAGE, runPages << SizeClasses.LG_PAGE, rows);
    }

    /**
     * Statistics of a pool file at rest (bytes unless named otherwise).
     *
     * @param allocated usable bytes of live blocks
     * @param free      bytes of free pages, of which {@code purged} were returned to the file system
     */
    public record FileStats(long mapped, long metadata, long usable, long blocks, long allocated, long free, long purged,
                            long largestFree, long slabBytes, long runBytes, List<ClassStats> classes) {
    }

    /** One size class ({@code size} -1: huge, page-rounded): live blocks, their bytes, slab pages it holds. */
    public record ClassStats(long size, long blocks, long bytes, long slabPages) {
    }

    /** The root's offset from the pool's base, or 0 if none is set. */
    public long rootOffset() {
        return header.get(LONG, PoolLayout.OFF_ROOT);
    }

    /**
     * Usable bytes of the live block starting at {@code offset} (from the pool's base), or -1 if no live block starts
     * there.
     */
    public long blockSize(long offset) {
        MemorySegment seg = metadata();
        long off = offset - layout.heapOffset;
        if (off < 0 || off >= (layout.heapPagesAt(file.size) << SizeClasses.LG_PAGE) || (off & (SizeClasses.QUANTUM - 1)) != 0) {
            return -1;
        }
        LiveMap live = new LiveMap(seg, layout);
        if (!live.isSet(off)) {
            return -1;
        }
        PageMap map = new PageMap(seg, layout, layout.heapPagesAt(file.size));
        long page = off >>> SizeClasses.LG_PAGE;
        long e = map.get(page);
        return switch (PageMap.kind(e)) {
            case PageMap.LARGE -> PageMap.isHead(e) && (off & (SizeClasses.PAGE - 1)) == 0 ? PageMap.pages(e) << SizeClasses.LG_PAGE : -1;
            case PageMap.SLAB -> SizeClasses.size(PageMap.cls(e));
            default -> -1;
        };
    }

    /**
     * {@code length} bytes at {@code offset} from the pool's base, read from the file.
     *
     * @throws IllegalArgumentException if the range is not inside the file
     */
    public byte[] read(long offset, int length) {
        if (offset < 0 || length < 0 || offset + length > file.size) {
            throw new IllegalArgumentException("bytes " + offset + ".." + (offset + length) + " are not inside the "
                    + file.size + "-byte file");
        }
        try (Arena a = Arena.ofConfined()) {
            return file.read(a, offset, length).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    @Override
    public void close() {
        try {
            arena.close();
        } finally {
            file.close();
        }
    }
}
