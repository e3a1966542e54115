package io.jvmem.cli;

import io.jvmem.allocator.JsonWriter;
import io.jvmem.allocator.PoolException;
import io.jvmem.allocator.PoolFileInspector;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jvmem stats FILE} walks a pool file's metadata; {@code jvmem stats --pid N} asks a running JVM's pools
 * through the local JMX attach. Option letters omit sections as jemalloc's malloc_stats_print does: g general, m
 * merged, b bins (small classes), l large; for a running JVM also a per-arena.
 */
@Command(name = "stats", description = "Statistics of a pool file, or of a running JVM's pools (--pid), as text or JSON.")
final class StatsCommand implements Callable<Integer> {
    @ArgGroup(multiplicity = "1")
    Target target;

    static final class Target {
        @Parameters(paramLabel = "FILE", description = "the pool file")
        Path file;

        @Option(names = "--pid", paramLabel = "N", description = "a running JVM with jvmem pools (local JMX attach)")
        Long pid;
    }

    @Option(names = {"-o", "--omit"}, paramLabel = "LETTERS", defaultValue = "",
            description = "sections to leave out, jemalloc's letters: g general, m merged, a per arena, b bins, l large")
    String omit;

    @Option(names = "--json", description = "JSON instead of text")
    boolean json;

    @Spec
    CommandSpec spec;

    /** The file's check, said with its statistics: figures of an inconsistent pool are what its metadata claims. */
    private io.jvmem.allocator.PoolCheck check;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (target.pid != null) {
            out.print(RemotePools.stats(target.pid, omit, json));
            out.flush();
            return 0;
        }
        try (PoolFileInspector in = Inspect.open(target.file)) {
            PoolFileInspector.Info info = in.info();
            check = in.check();
            PoolFileInspector.FileStats s;
            try {
                s = in.stats();
            } catch (PoolException e) {
                throw new Inspect.Refused(JvmemCli.CANNOT, target.file + ": " + e.getMessage() + " (" + e.reason() + ")");
            }
            out.print(json ? json(info, s) : text(info, s));
            out.flush();
            return 0;
        }
    }

    private boolean shows(char letter) {
        return omit.indexOf(letter) < 0;
    }

    private String text(PoolFileInspector.Info i, PoolFileInspector.FileStats s) {
        StringBuilder b = new StringBuilder("___ Begin jvmem statistics ___\n");
        if (shows('g')) {
            b.append("Pool file: ").append(i.path()).append(" (").append(i.kind()).append(", layout ").append(i.layout())
                    .append(")\nVersion: ").append(i.major()).append('.').append(i.minor()).append("\nState: ")
                    .append(i.state()).append('\n');
        }
        b.append("Check: ").append(check.status());
        if (!check.problems().isEmpty()) {
            b.append(" (").append(check.problems().size()).append(check.problems().size() == 1 ? " problem" : " problems")
                    .append(", first: ").append(check.problems().get(0)).append("; the figures are what the metadata claims)");
        }
        b.append('\n');
        if (shows('m')) {
            b.append(String.format("Mapped: %d, usable: %d, metadata: %d%n", s.mapped(), s.usable(), s.metadata()));
            b.append(String.format("Allocated: %d in %d blocks, free: %d, purged: %d, largest free: %d%n", s.allocated(),
                    s.blocks(), s.free(), s.purged(), s.largestFree()));
            b.append(String.format("Slabs: %d bytes, page runs: %d bytes%n", s.slabBytes(), s.runBytes()));
        }
        if (shows('b')) {
            b.append("bins:     size   slab pages       live     live bytes\n");
            for (PoolFileInspector.ClassStats c : s.classes()) {
                if (c.slabPages() > 0) {
                    b.append(String.format("  %10d %12d %10d %14d%n", c.size(), c.slabPages(), c.blocks(), c.bytes()));
                }
            }
        }
        if (shows('l')) {
            b.append("large:    size                 live     live bytes\n");
            for (PoolFileInspector.ClassStats c : s.classes()) {
                if (c.slabPages() == 0) {
                    b.append(String.format("  %10s %20d %14d%n", c.size() < 0 ? "huge" : Long.toString(c.size()), c.blocks(),
                            c.bytes()));
                }
            }
        }
        return b.append("--- End jvmem statistics ---\n").toString();
    }

    private String json(PoolFileInspector.Info i, PoolFileInspector.FileStats s) {
        JsonWriter w = JsonWriter.compact().beginObject().name("jvmem").beginObject();
        if (shows('g')) {
            w.field("version", i.major() + "." + i.minor());
            w.name("config").beginObject().field("path", i.path().toString()).field("kind", i.kind())
                    .field("layout", i.layout()).field("state", i.state()).endObject();
        }
        w.name("check").beginObject().field("status", check.status().name()).field("problems", check.problems()).endObject();
        if (shows('m')) {
            w.name("stats").beginObject().field("mapped", s.mapped()).field("usable", s.usable())
                    .field("metadata", s.metadata()).field("allocated", s.allocated()).field("blocks", s.blocks())
                    .field("free", s.free()).field("purged", s.purged()).field("largest_free", s.largestFree())
                    .field("slab_bytes", s.slabBytes()).field("run_bytes", s.runBytes()).endObject();
        }
        if (shows('b')) {
            w.name("bins").beginArray();
            for (PoolFileInspector.ClassStats c : s.classes()) {
                if (c.slabPages() > 0) {
                    w.beginObject().field("size", c.size()).field("slab_pages", c.slabPages()).field("live", c.blocks())
                            .field("live_bytes", c.bytes()).endObject();
                }
            }
            w.endArray();
        }
        if (shows('l')) {
            w.name("large").beginArray();
            for (PoolFileInspector.ClassStats c : s.classes()) {
                if (c.slabPages() == 0) {
                    w.beginObject().field("size", c.size()).field("live", c.blocks()).field("live_bytes", c.bytes()).endObject();
                }
            }
            w.endArray();
        }
        return w.endObject().endObject() + "\n";
    }

    /** Re-emits parsed JSON: used to gather each remote pool's statistics into one document. */
    static void copy(JsonWriter w, Object v) {
        if (v instanceof java.util.Map<?, ?> m) {
            w.beginObject();
            for (java.util.Map.Entry<?, ?> e : m.entrySet()) {
                w.name((String) e.getKey());
                copy(w, e.getValue());
            }
            w.endObject();
        } else if (v instanceof java.util.List<?> l) {
            w.beginArray();
            for (Object o : l) {
                copy(w, o);
            }
            w.endArray();
        } else if (v instanceof String s) {
            w.value(s);
        } else if (v instanceof Boolean bo) {
            w.value(bo);
        } else if (v instanceof Long n) {
            w.value(n);
        } else if (v instanceof Number n) {
            w.value(n.doubleValue());
        } else {
            w.value((String) null);
        }
    }
}
