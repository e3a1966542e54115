package io.jvmem.bench;

import io.jvmem.bench.ResultsPage.Target;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The results page's start-up section, from {@code startup.json} ({@link StartupTimer}). */
final class StartupSection {
    /** The agent's start-up budget over the same process without it, ms. */
    static final double TARGET_MS = 150;
    private static final String TARGET = String.format(Locale.ROOT, "start-up ≤ +%.0f ms", TARGET_MS);
    private static final String[] PHASE_LABELS = {"premain in all",
            "config and bridge (java.base classes defined; then, while the pools open on another thread, the rewriter's "
                    + "first run)", "pools (the wait for them after that)",
            "hooks (bridge connected)", "retransform (classes already loaded)"};

    private StartupSection() {
    }

    @SuppressWarnings("unchecked")
    static void write(StringBuilder md, Path dir, List<Target> targets) throws IOException {
        md.append("## Start-up\n\n");
        Path f = dir.resolve("startup.json");
        if (!Files.exists(f)) {
            md.append("_not run_\n\n");
            targets.add(new Target("agent", TARGET, "not run", null));
            return;
        }
        Map<String, Object> m = (Map<String, Object>) io.jvmem.allocator.Json.parse(Files.readString(f));
        double without = ((Number) m.get("withoutMedianMs")).doubleValue();
        double withReport = ((Number) m.get("withMedianMs")).doubleValue();
        // the configuration is one pool and one route; runs before 2026-11-30 19:30 timed only the report's
        Object plain = m.get("withNoReportMedianMs");
        double with = plain == null ? withReport : ((Number) plain).doubleValue();
        double delta = with - without;
        md.append("`StartupTimer`: wall time of a whole `java` process running `io.jvmem.bench.routed.Hello` (hello world with one ")
                .append("4 KiB `ByteBuffer.allocateDirect`), with the agent and one route to a 64 MiB pool on /dev/shm and without, ")
                .append("alternating, after one untimed run of each; median of ").append(((Number) m.get("runs")).intValue()).append(" runs each.\n\n");
        double any = ((Number) m.get("anyAgentMedianMs")).doubleValue();
        double floor = ((Number) m.get("floorMedianMs")).doubleValue();
        md.append("In the same alternation, two reference agents that contain nothing of jvmem (`io.jvmem.bench.startup.FloorAgent`, ")
                .append("packed by the timer into `startup-floor-agent.jar` next to its results): **any agent** installs a transformer that changes nothing; ")
                .append("**floor** adds what an agent built like jvmem's cannot skip when a hello world's one buffer is routed: an ")
                .append("FFM mapping of a 64 MiB file on /dev/shm (made on a second thread, one store and load through a ")
                .append("`ValueLayout`; jvmem's pools are FFM segments) and an ASM read and write of each application class ")
                .append("(jvmem rewrites with ASM). Load average at the end: ").append(m.get("loadAverage")).append(".\n\n");
        md.append("| | median (ms) | over no agent (ms) | all runs (ms) |\n|---|---:|---:|---|\n");
        md.append(String.format(Locale.ROOT, "| without agent | %.1f | | %s |%n", without, list(m.get("withoutMs"))));
        md.append(String.format(Locale.ROOT, "| any agent (a transformer that does nothing) | %.1f | %+.0f | %s |%n", any, any - without, list(m.get("anyAgentMs"))));
        md.append(String.format(Locale.ROOT, "| floor (any agent + FFM mapping + ASM pass) | %.1f | %+.0f | %s |%n", floor, floor - without, list(m.get("floorMs"))));
        if (plain != null) {
            md.append(String.format(Locale.ROOT, "| with the jvmem agent (one pool, one route) | %.1f | %+.0f | %s |%n", with, delta,
                    list(m.get("withNoReportMs"))));
        }
        md.append(String.format(Locale.ROOT, "| with the jvmem agent and `report` (the JSON report written at exit) | %.1f | %+.0f | %s |%n",
                withReport, withReport - without, list(m.get("withMs"))));
        md.append("\nThe agent's share beyond the floor: reading the config, opening java.nio and defining the bridge in java.base, ")
                .append("the allocator's own start (its classes, its metadata, the pool's first 2 MiB written as zeros, its ")
                .append("threads), loading the agent's classes (about 120, through the boot loader: the jar's `Boot-Class-Path` ")
                .append("puts them there, so they are neither verified again nor first looked up along the class path), the JIT ")
                .append("compiling what all this runs, and the report at exit. Premain's first step starts a thread that ")
                .append("initializes the FFM classes the pool needs; the pool opens on a second thread once the config is read; ")
                .append("meanwhile the premain thread defines the bridge and rewrites a sample class, so ASM's first use is off ")
                .append("the program's path. `log=info` prints the agent's phases (such a run is slower than a quiet one: the ")
                .append("allocator's log starts the JDK's logging).\n\n");
        if (m.get("phasesMs") instanceof Map<?, ?> phases) {
            md.append("The agent's own phases (its `log=info` start line, median of ")
                    .append(((Number) phases.get("runs")).intValue()).append(" more runs with the agent):\n\n")
                    .append("| phase | median (ms) |\n|---|---:|\n");
            for (int i = 0; i < StartupTimer.PHASES.length; i++) {
                md.append(String.format(Locale.ROOT, "| %s | %.0f |%n", PHASE_LABELS[i], ((Number) phases.get(StartupTimer.PHASES[i])).doubleValue()));
            }
            md.append(String.format(Locale.ROOT, "| outside premain (the JVM's agent support, loading and rewriting Hello, the report "
                    + "at exit): start-up cost with the report − premain | %.0f |%n%n",
                    withReport - without - ((Number) phases.get("premain")).doubleValue()));
        }
        boolean ok = delta <= TARGET_MS;
        md.append(String.format(Locale.ROOT, "Agent start-up cost, one pool and one route: %+.0f ms (target ≤ +%.0f ms: %s); with a "
                        + "report written at exit %+.0f ms; the floor alone costs %+.0f ms, of which %+.0f ms is any agent's. "
                        + "Command with the agent and the report: `%s`%n%n",
                delta, TARGET_MS, ok ? "**met**" : "**not met**", withReport - without, floor - without, any - without,
                m.get("command")));
        targets.add(new Target("agent", TARGET, String.format(Locale.ROOT, "%+.0f ms, one pool and one route (with a report at exit "
                + "%+.0f ms; floor without jvmem %+.0f ms, any agent %+.0f ms)", delta, withReport - without, floor - without,
                any - without), ok));
    }

    private static String list(Object o) {
        StringBuilder b = new StringBuilder();
        for (Object v : (List<?>) o) {
            b.append(b.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%.0f", ((Number) v).doubleValue()));
        }
        return b.toString();
    }
}
