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
        JsonWriter w = JsonWriter.compact().beginObject().name("jvmem").beginObject();
        if (general) {
            w.field("version", PoolLayout.MAJOR + "." + PoolLayout.MINOR);
            w.name("config").beginObject()
                    .field("name", s.name()).field("kind", kind).field("path", path)
                    .field("arenas", h.arenas.length).field("quantum", SizeClasses.QUANTUM).field("page", SizeClasses.PAGE)
                    .field("small_max", SizeClasses.SMALL_MAX).field("run_max", SizeClasses.MAX_RUN_CLASS)
                    .field("tcache_max", h.options.threadCacheMax()).field("decay_ms", h.options.decayMillis())
                    .field("junk", h.options.junkFill()).field("redzones", h.options.redzones())
                    .endObject();
        }
        if (merged) {
            w.name("stats").beginObject()
                    .field("mapped", s.mapped()).field("usable", s.usable()).field("metadata", s.metadata())
                    .field("allocated", s.allocated()).field("active", s.active()).field("cached", s.cached())
                    .field("dirty", s.dirty()).field("purged", s.purged()).field("largest_free", s.largestFree())
                    .field("mallocs", s.mallocs()).field("frees", s.frees())
                    .endObject();
            PoolStats.Tier tier = s.tier();
            w.name("tier").beginObject().field("max_size", tier.maxSize()).field("file_page", tier.filePageSize())
                    .field("chunks", tier.chunks()).field("numa", tier.numaPolicy());
            w.name("pages_per_node").beginArray();
            for (long n : tier.pagesPerNode()) {
                w.value(n);
            }
            w.endArray();
            w.field("pages_not_present", tier.pagesNotPresent()).field("huge_pages", tier.hugePages())
                    .field("huge_page_bytes", tier.hugePageBytes()).endObject();
            w.name("tags").beginArray();
            for (PoolStats.TagStats t : s.tags()) {
                w.beginObject().field("name", t.name()).field("in_use", t.inUse()).field("requests", t.requests())
                        .field("peak_in_use", t.peakInUse()).endObject();
            }
            w.endArray();
        }
        if (bins) {
            classes(w.name("bins"), s, true);
        }
        if (large) {
            classes(w.name("large"), s, false);
        }
        if (perArena) {
            w.name("arenas").beginArray();
            for (PoolStats.ArenaStats a : s.arenas()) {
                w.beginObject().field("index", a.index()).field("threads", a.threads()).field("slabs", a.slabs())
                        .field("slab_bytes", a.slabBytes()).endObject();
            }
            w.endArray();
        }
        return w.endObject().endObject().toString();
    }

    private static void classes(JsonWriter w, PoolStats s, boolean small) {
        w.beginArray();
        for (PoolStats.SizeClassStats c : s.sizeClasses()) {
            if (c.kind().equals("small") != small) {
                continue;
            }
            w.beginObject().field("size", c.size()).field("kind", c.kind()).field("mallocs", c.mallocs())
                    .field("frees", c.frees()).field("live", c.live());
            if (small) {
                w.field("slabs", c.slabs()).field("regions", c.regionsPerSlab()).field("slab_pages", c.slabPages());
            }
            w.endObject();
        }
        w.endArray();
    }
}
