package io.jvmem.cli;

import io.jvmem.allocator.JsonWriter;
import io.jvmem.allocator.PoolFileInspector;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jvmem info FILE}: the header as it is on media: version, kind, layout, size, state, layout of the file. */
@Command(name = "info", description = "Header, layout, size and state of a pool file (read-only).")
final class InfoCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "the pool file")
    Path file;

    @Option(names = "--json", description = "JSON instead of text")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (PoolFileInspector in = Inspect.open(file)) {
            PoolFileInspector.Info i = in.info();
            if (json) {
                JsonWriter w = JsonWriter.spaced().beginObject(true)
                        .field("path", i.path().toString()).field("fileSize", i.fileSize()).field("magic", i.magic())
                        .field("version", i.major() + "." + i.minor()).field("kind", i.kind()).field("layout", i.layout())
                        .field("size", i.size()).field("state", i.state()).field("pageMapOffset", i.pageMapOffset())
                        .field("liveMapOffset", i.liveMapOffset()).field("heapOffset", i.heapOffset())
                        .field("heapPages", i.heapPages()).field("rootOffset", i.rootOffset())
                        .field("headerChecksumOk", i.headerChecksumOk());
                w.name("problem").value(i.problem());
                out.println(w.endObject());
            } else {
                out.printf("path:            %s%n", i.path());
                out.printf("file size:       %d%n", i.fileSize());
                out.printf("magic:           %s%n", i.magic() ? "jvmem pool" : "missing (not a jvmem pool)");
                out.printf("version:         %d.%d%n", i.major(), i.minor());
                out.printf("kind:            %s%n", i.kind());
                out.printf("layout:          %s%n", i.layout());
                out.printf("size:            %d%n", i.size());
                out.printf("state:           %s%n", i.state());
                out.printf("page map:        offset %d%n", i.pageMapOffset());
                out.printf("live map:        offset %d%n", i.liveMapOffset());
                out.printf("heap:            offset %d, %d pages%n", i.heapOffset(), i.heapPages());
                out.printf("root:            %s%n", i.rootOffset() == 0 ? "none" : "offset " + i.rootOffset());
                out.printf("header checksum: %s%n", i.headerChecksumOk() ? "ok" : "MISMATCH");
                if (i.problem() != null) {
                    out.printf("problem:         %s%n", i.problem());
                }
            }
            out.flush();
            return 0;
        }
    }
}
