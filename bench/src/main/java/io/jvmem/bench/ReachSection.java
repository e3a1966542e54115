package io.jvmem.bench;

import static io.jvmem.bench.Format.difference;
import static io.jvmem.bench.Format.fmt;
import static io.jvmem.bench.Format.human;
import static io.jvmem.bench.Format.ratio;

import io.jvmem.bench.ResultsPage.Target;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The results page's section on {@link AgentReachBenchmark}: {@code reach-pool.json} (forks with the agent) against
 * {@code reach-jdk.json} (forks without, which also hold the floors). No target: the figures are reported.
 */
final class ReachSection {
    private static final String[] SIZES = {"64", "4096", "65536", "1048576"};

    private ReachSection() {
    }

    static void write(StringBuilder md, Path dir, List<Target> targets) throws IOException {
        md.append("## Agent: java.lang.foreign arenas, run-time handles and Method.invoke\n\n");
        List<Results> pool = Results.read(dir.resolve("reach-pool.json"));
        List<Results> jdk = Results.read(dir.resolve("reach-jdk.json"));
        if (pool.isEmpty() && jdk.isEmpty()) {
            md.append("_not run_\n\n");
            targets.add(new Target("agent", "Arena.ofConfined allocate + close at 4 KiB, routed / JDK (reported)", "not run", null));
            return;
        }
        md.append("`AgentReachBenchmark`, run twice by bench/run like the allocateDirect benchmark above: **pool** = forks with ")
                .append("the agent and the route including `io.jvmem.bench.routed` (each fork checks at setup that the arena's ")
                .append("segments come from the pool, and that its looked-up handle and `Method.invoke` call site are the ")
                .append("agent's), **JDK** = the same class without the agent. ns per operation (lower is better); ")
                .append("**pool / JDK** below 1 means the routed operation is faster.\n\n");
        md.append("### Arenas\n\n")
                .append("An operation is `Arena.ofConfined()` (or `ofShared()`), `arena.allocate(n)`, `arena.close()`. With the ")
                .append("agent the segment is a pool block, zeroed and aligned as the JDK's, scoped to the caller's arena, and ")
                .append("returned to the pool by the close. Floors, measured in the JDK forks: **zeroing alone** ")
                .append("(`Unsafe.setMemory` of n bytes; a new segment must read as zero) and **open + close alone** (the arena ")
                .append("with nothing allocated in it; a shared arena's close is a handshake with every thread).\n\n");
        md.append("| arena | size | pool (ns) | JDK (ns) | pool / JDK | zeroing alone (ns) | open + close alone (ns) |\n")
                .append("|---|---:|---:|---:|---:|---:|---:|\n");
        Results openConfined = Results.find(jdk, "openCloseConfined", null, null);
        for (String size : SIZES) {
            Results p = Results.find(pool, "confinedArena", "size", size);
            Results j = Results.find(jdk, "confinedArena", "size", size);
            row(md, "confined", size, p, j, Results.find(jdk, "zeroFill", "size", size), openConfined);
            if (size.equals("4096")) {
                targets.add(new Target("agent", "Arena.ofConfined allocate + close at 4 KiB, routed / JDK (reported, no target)",
                        p == null || j == null ? "not run" : String.format(Locale.ROOT, "%.2f×", p.score() / j.score()), null));
            }
        }
        Results ps = Results.find(pool, "sharedArena", null, null);
        Results js = Results.find(jdk, "sharedArena", null, null);
        row(md, "shared", "4096", ps, js, Results.find(jdk, "zeroFill", "size", "4096"), Results.find(jdk, "openCloseShared", null, null));

        md.append("\n### The path that never reaches a pool\n\n")
                .append("What the agent's interception costs a program where it finds nothing to route (64-byte DRAM blocks from ")
                .append("`Unsafe.allocateMemory`, which this class's route does not cover). **handle**: the block freed through the ")
                .append("handle `MethodHandles.lookup().findVirtual(Unsafe.class, \"freeMemory\", ...)` returned, kept in a static ")
                .append("final and called with `invokeExact`; the agent's handle checks the address against the pools, then calls ")
                .append("the JDK's. **direct**: the same pair as plain calls; every class's `freeMemory` call site is pool-aware ")
                .append("under the agent. **Method.invoke**: a reflective call of a static `int next(int)` the agent does not ")
                .append("intercept; under the agent the call site first passes the method and the receiver through two static ")
                .append("calls that find nothing to substitute.\n\n");
        md.append("| operation | with agent (ns) | JDK (ns) | agent − JDK (ns) | agent / JDK |\n|---|---:|---:|---:|---:|\n");
        String[][] ops = {{"handleFreeMemory", "allocateMemory(64) + freeMemory through a looked-up handle"},
                {"directFreeMemory", "allocateMemory(64) + freeMemory, direct calls"},
                {"methodInvoke", "Method.invoke of a method not intercepted"}};
        for (String[] op : ops) {
            Results p = Results.find(pool, op[0], null, null);
            Results j = Results.find(jdk, op[0], null, null);
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s |%n", op[1], fmt(p), fmt(j), difference(p, j), ratio(p, j)));
            targets.add(new Target("agent", op[1] + ": with agent − JDK (reported, no target)",
                    p == null || j == null ? "not run" : String.format(Locale.ROOT, "%+.1f ns", p.score() - j.score()), null));
        }
        md.append('\n');
    }

    private static void row(StringBuilder md, String arena, String size, Results p, Results j, Results zero, Results openClose) {
        md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s |%n", arena, human(size), fmt(p), fmt(j),
                ratio(p, j), fmt(zero), fmt(openClose)));
    }
}
