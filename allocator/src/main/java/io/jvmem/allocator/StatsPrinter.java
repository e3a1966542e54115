package io.jvmem.allocator;

/**
 * vmem_stats_print / malloc_stats_print: text by default, JSON with "J". Option letters omit sections: g general
 * information that never changes, m merged (pool-wide) statistics, a per-arena statistics, b bins (small classes),
 * l large and huge classes. Unknown letters are ignored.
 */
final class StatsPrinter {
    private StatsPrinter() {
    }

    static String print(PoolStats s, Allocator h, String opts, String path, String kind) {
        boolean json = opts.indexOf('J') >= 0;
        boolean general = opts.indexOf('g') < 0;
        boolean merged = opts.indexOf('m') < 0;
        boolean perArena = opts.indexOf('a') < 0;
        boolean bins = opts.indexOf('b') < 0;
        boolean large = opts.indexOf('l') < 0;
        return json ? json(s, h, general, merged, perArena, bins, large, path, kind)
                : text(s, h, general, merged, perArena, bins, large, path, kind);
    }

    private static String text(PoolStats s, Allocator h, boolean general, boolean merged, boolean perArena,
                               boolean bins, boolean large, String path, String kind) {
        StringBuilder b = new StringBuilder();
        b.append("___ Begin jvmem statistics ___\n");
        if (general) {
            b.append("Pool: ").append(s.name()).append(" (").append(kind).append(", ").append(path).append(")\n");
            b.append("Version: ").append(PoolLayout.MAJOR).append('.').append(PoolLayout.MINOR).append('\n');
            b.append("Arenas: ").append(h.arenas.length).append('\n');
            b.append("Quantum size: ").append(SizeClasses.QUANTUM).append("\nPage size: ").append(SizeClasses.PAGE).append('\n');
            b.append("Small classes: ").append(SizeClasses.NSMALL).append(" (up to ").append(SizeClasses.SMALL_MAX)
                    .append(")\nPage-run classes up to: ").append(SizeClasses.MAX_RUN_CLASS).append('\n');
            b.append("Thread cache max: ").append(h.options.threadCacheMax())
                    .append("\nDecay time (ms): ").append(h.options.decayMillis())
                    .append("\nJunk fill: ").append(h.options.junkFill()).append("\nRedzones: ").append(h.options.redzones()).append('\n');
        }
        if (merged) {
            b.append(String.format("Mapped: %d, usable: %d, metadata: %d%n", s.mapped(), s.usable(), s.metadata()));
            b.append(String.format("Allocated: %d, active: %d, cached: %d, dirty: %d, purged: %d, largest free: %d%n",
                    s.allocated(), s.active(), s.cached(), s.dirty(), s.purged(), s.largestFree()));
            b.append(String.format("Operations: %d mallocs, %d frees%n", s.mallocs(), s.frees()));
            PoolStats.Tier tier = s.tier();
            b.append(String.format("Tier: max size %d, file page %d, chunks %d, numa %s, pages per node %s (%d not touched),"
                    + " huge pages %s (%d bytes backed)%n", tier.maxSize(), tier.filePageSize(), tier.chunks(), tier.numaPolicy(),
                    tier.pagesPerNode(), tier.pagesNotPresent(), tier.hugePages(), tier.hugePageBytes()));
            if (!s.tags().isEmpty()) {
                b.append("tags:                                      in use     requests    peak in use\n");
                for (PoolStats.TagStats t : s.tags()) {
                    b.append(String.format("  %-36s %12d %12d %14d%n", t.name(), t.inUse(), t.requests(), t.peakInUse()));
                }
            }
        }
        if (bins) {
            b.append("bins:     size  slab pages  regions     slabs      mallocs        frees         live\n");
            for (PoolStats.SizeClassStats c : s.sizeClasses()) {
                if (c.kind().equals("small")) {
                    b.append(String.format("  %10d %11d %8d %9d %12d %12d %12d%n", c.size(), c.slabPages(), c.regionsPerSlab(),
                            c.slabs(), c.mallocs(), c.frees(), c.live()));
                }
            }
        }
        if (large) {
            b.append("large:    size                             mallocs        frees         live\n");
            for (PoolStats.SizeClassStats c : s.sizeClasses()) {
                if (!c.kind().equals("small")) {
                    b.append(String.format("  %10s %34d %12d %12d%n", c.size() < 0 ? "huge" : Long.toString(c.size()),
                            c.mallocs(), c.frees(), c.live()));
                }
            }
        }
        if (perArena) {
            for (PoolStats.ArenaStats a : s.arenas()) {
                b.append(String.format("arenas[%d]: threads %d, slabs %d, slab bytes %d%n", a.index(), a.threads(), a.slabs(), a.slabBytes()));
            }
        }
        b.append("--- End jvmem statistics ---\n");
        return b.toString();
    }

    private static String json(PoolStats s, Allocator h, boolean general, boolean merged, boolean perArena,
                               boolean bins, boolean large, String path, String kind) {
        StringBuilder b = new StringBuilder("{\"jvmem\":{");
        String sep = "";
        if (general) {
            b.append("\"version\":\"").append(PoolLayout.MAJOR).append('.').append(PoolLayout.MINOR).append("\",\"config\":{")
                    .append("\"name\":").append(quote(s.name())).append(",\"kind\":").append(quote(kind))
                    .append(",\"path\":").append(quote(path)).append(",\"arenas\":").append(h.arenas.length)
                    .append(",\"quantum\":").append(SizeClasses.QUANTUM).append(",\"page\":").append(SizeClasses.PAGE)
                    .append(",\"small_max\":").append(SizeClasses.SMALL_MAX).append(",\"run_max\":").append(SizeClasses.MAX_RUN_CLASS)
                    .append(",\"tcache_max\":").append(h.options.threadCacheMax()).append(",\"decay_ms\":").append(h.options.decayMillis())
                    .append(",\"junk\":").append(h.options.junkFill()).append(",\"redzones\":").append(h.options.redzones()).append('}');
            sep = ",";
        }
        if (merged) {
            b.append(sep).append("\"stats\":{\"mapped\":").append(s.mapped()).append(",\"usable\":").append(s.usable())
                    .append(",\"metadata\":").append(s.metadata()).append(",\"allocated\":").append(s.allocated())
                    .append(",\"active\":").append(s.active()).append(",\"cached\":").append(s.cached())
                    .append(",\"dirty\":").append(s.dirty()).append(",\"purged\":").append(s.purged())
                    .append(",\"largest_free\":").append(s.largestFree())
                    .append(",\"mallocs\":").append(s.mallocs()).append(",\"frees\":").append(s.frees()).append('}');
            PoolStats.Tier tier = s.tier();
            b.append(",\"tier\":{\"max_size\":").append(tier.maxSize()).append(",\"file_page\":").append(tier.filePageSize())
                    .append(",\"chunks\":").append(tier.chunks()).append(",\"numa\":").append(quote(tier.numaPolicy()))
                    .append(",\"pages_per_node\":").append(tier.pagesPerNode().toString().replace(" ", ""))
                    .append(",\"pages_not_present\":").append(tier.pagesNotPresent())
                    .append(",\"huge_pages\":").append(quote(tier.hugePages())).append(",\"huge_page_bytes\":")
                    .append(tier.hugePageBytes()).append("},\"tags\":[");
            String ts = "";
            for (PoolStats.TagStats t : s.tags()) {
                b.append(ts).append("{\"name\":").append(quote(t.name())).append(",\"in_use\":").append(t.inUse())
                        .append(",\"requests\":").append(t.requests()).append(",\"peak_in_use\":").append(t.peakInUse()).append('}');
                ts = ",";
            }
            b.append(']');
            sep = ",";
        }
        if (bins) {
            b.append(sep).append("\"bins\":").append(classes(s, true));
            sep = ",";
        }
        if (large) {
            b.append(sep).append("\"large\":").append(classes(s, false));
            sep = ",";
        }
        if (perArena) {
            b.append(sep).append("\"arenas\":[");
            String as = "";
            for (PoolStats.ArenaStats a : s.arenas()) {
                b.append(as).append("{\"index\":").append(a.index()).append(",\"threads\":").append(a.threads())
                        .append(",\"slabs\":").append(a.slabs()).append(",\"slab_bytes\":").append(a.slabBytes()).append('}');
                as = ",";
            }
            b.append(']');
        }
        return b.append("}}").toString();
    }

    private static String classes(PoolStats s, boolean small) {
        StringBuilder b = new StringBuilder("[");
        String sep = "";
        for (PoolStats.SizeClassStats c : s.sizeClasses()) {
            if (c.kind().equals("small") != small) {
                continue;
            }
            b.append(sep).append("{\"size\":").append(c.size()).append(",\"kind\":\"").append(c.kind())
                    .append("\",\"mallocs\":").append(c.mallocs()).append(",\"frees\":").append(c.frees())
                    .append(",\"live\":").append(c.live());
            if (small) {
                b.append(",\"slabs\":").append(c.slabs()).append(",\"regions\":").append(c.regionsPerSlab())
                        .append(",\"slab_pages\":").append(c.slabPages());
            }
            b.append('}');
            sep = ",";
        }
        return b.append(']').toString();
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
