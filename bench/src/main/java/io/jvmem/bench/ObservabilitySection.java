package io.jvmem.bench;

import static io.jvmem.bench.Format.fmt;
import static io.jvmem.bench.Format.human;
import static io.jvmem.bench.Format.ratio;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The results page's section on {@link ObservabilityBenchmark}: malloc+free with JFR recording or JMX being read. */
final class ObservabilitySection {
    private ObservabilitySection() {
    }

    static void write(StringBuilder md, Path dir) throws IOException {
        md.append("## Observability: the cost of JFR and JMX\n\n");
        List<Results> rows = Results.read(dir.resolve("observability.json"));
        if (rows.isEmpty()) {
            md.append("_not run_\n\n");
            return;
        }
        md.append("`ObservabilityBenchmark`: pool malloc+free, ns per pair, each mode in its own forks. **off**: Flight ")
                .append("Recorder never started (jvmem's events cost one volatile read) and the MXBeans registered but not ")
                .append("read; **JFR**: a recording with the JDK's `default` settings, which enable jvmem's events (the ")
                .append("allocation sample is throttled to 100 a second); **JFR, jvmem's events off**: the same recording with ")
                .append("`io.jvmem.*` disabled, what recording costs by itself; **JMX**: a thread reading every attribute of the ")
                .append("pool's MXBean ten times a second, as a scraping dashboard would.\n\n");
        md.append("| size | off (ns) | JFR, jvmem's events off (ns) | JFR recording (ns) | JMX read (ns) | JFR / off | JMX / off |\n")
                .append("|---:|---:|---:|---:|---:|---:|---:|\n");
        for (String size : new String[] {"64", "4096"}) {
            Results off = find(rows, "off", size);
            Results others = find(rows, "jfrOthers", size);
            Results jfr = find(rows, "jfr", size);
            Results jmx = find(rows, "jmx", size);
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s |%n", human(size), fmt(off), fmt(others),
                    fmt(jfr), fmt(jmx),
                    ratio(jfr, off), ratio(jmx, off)));
        }
        md.append('\n');
    }

    private static Results find(List<Results> rows, String mode, String size) {
        for (Results r : rows) {
            if (mode.equals(r.param("mode")) && size.equals(r.param("size"))) {
                return r;
            }
        }
        return null;
    }
}
