package io.jvmem.agent;

import io.jvmem.agent.AgentConfig.Kind;
import io.jvmem.agent.AgentConfig.OnDirty;
import io.jvmem.agent.AgentConfig.PoolSpec;
import io.jvmem.agent.AgentConfig.RouteSpec;
import io.jvmem.allocator.CtoPool;
import io.jvmem.allocator.MemoryPool;
import io.jvmem.allocator.PoolErrorReason;
import io.jvmem.allocator.PoolException;
import io.jvmem.allocator.PoolOptions;
import io.jvmem.allocator.VolatilePool;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The running agent: reads the config, opens the pools, installs the bridge and the transformer, retransforms
 * classes loaded before it, and at exit writes the report and closes close-to-open pools.
 */
final class AgentRuntime {
    private static volatile AgentRuntime current;

    private final AgentConfig config;
    private final Map<String, MemoryPool> pools;
    private final List<Route> routes;
    private final Sites sites;
    private final BridgeInstaller.HooksAccess hooks;
    private final AgentTransformer transformer;
    private final AgentLog log;
    private final long startNanos = System.nanoTime();

    private AgentRuntime(AgentConfig config, Map<String, MemoryPool> pools, List<Route> routes, Sites sites,
                         BridgeInstaller.HooksAccess hooks, AgentTransformer transformer, AgentLog log) {
        this.config = config;
        this.pools = pools;
        this.routes = routes;
        this.sites = sites;
        this.hooks = hooks;
        this.transformer = transformer;
        this.log = log;
    }

    static AgentRuntime current() {
        return current;
    }

    static synchronized void start(String args, Instrumentation inst, boolean late) throws Exception {
        if (current != null) {
            System.err.println("jvmem: the agent is already running in this JVM; it was not started again");
            return;
        }
        if (BridgeInstaller.installedByAnother()) { // a start of this copy that failed after defining the bridge may retry
            throw new ConfigException("another copy of the agent (another jar, or this jar through another class loader)"
                    + " has defined its bridge in this JVM: it is running, or its start failed; this one was not started"
                    + " (restart the program to start the agent afresh)");
        }
        long t0 = System.nanoTime();
        StartupWarmUp.jdkClassesInBackground(); // while this thread reads the config and the opener makes the file
        if (AgentJar.onBootClassPath()) {
            String foreign = AgentJar.foreignBootJar();
            if (foreign != null) {
                throw new ConfigException(foreign);
            }
        }
        AgentConfig config = ConfigParser.parse(configPath(args));
        if (config.report() != null) {
            try {
                Report.probe(config.report());
            } catch (java.io.IOException | RuntimeException e) {
                throw config.error("report", null, "cannot write the report " + config.report() + ": " + e);
            }
        }
        AgentLog log = new AgentLog(config.log());
        log.driveAllocatorLog();
        for (String w : config.warnings()) {
            log.warn(w);
        }
        PoolOpener opener = new PoolOpener(config, log);
        opener.start();
        BridgeInstaller.Defined bridge;
        try {
            bridge = BridgeInstaller.define(inst);
        } catch (Throwable t) {
            opener.closeWhenOpen(); // a cto pool must not be left marked open
            throw t;
        }
        if (!config.routes().isEmpty()) {
            StartupWarmUp.run(config.routes().get(0)); // while the pools open: ASM's first use, off the program's path
        }
        long t1 = System.nanoTime();
        Map<String, MemoryPool> pools = opener.await();
        long t2 = System.nanoTime();
        try {
            MemoryPool[] poolArray = pools.values().toArray(new MemoryPool[0]);
            @SuppressWarnings("unchecked")
            Set<Long>[] transients = new Set[poolArray.length];
            for (int i = 0; i < poolArray.length; i++) {
                transients[i] = poolArray[i] instanceof CtoPool ? ConcurrentHashMap.newKeySet() : null;
            }
            List<Route> routes = new ArrayList<>();
            for (RouteSpec spec : config.routes()) {
                MemoryPool p = pools.get(spec.pool());
                routes.add(new Route(spec, p, transients[List.of(poolArray).indexOf(p)]));
            }
            Sites sites = new Sites(Leaks.of(config.leakDetection()));
            for (Route r : routes) {
                io.jvmem.allocator.Mbeans.registerLater(RouteMonitor.objectName(r.name()), new RouteMonitor(r, sites));
            }
            for (MemoryPool p : poolArray) {
                countFallbacks(p, routes);
            }
            AgentTransformer transformer = new AgentTransformer(new RouteTable(routes), sites, log);
            BridgeInstaller.HooksAccess hooks = BridgeInstaller.connect(bridge, sites, poolArray, transients, log, transformer);
            long t3 = System.nanoTime();
            AgentRuntime rt = new AgentRuntime(config, Collections.unmodifiableMap(pools), List.copyOf(routes), sites, hooks, transformer, log);
            current = rt;
            System.setProperty(Jvmem.RUNNING_PROPERTY, config.source()); // for jvmem attach: started once per JVM
            Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("jvmem-exit").unstarted(new Runnable() {
                @Override
                public void run() { // not a method reference: a lambda's bootstrap costs start-up
                    rt.exit();
                }
            }));
            inst.addTransformer(transformer, true);
            LoadedClasses.retransform(inst, log);
            long t4 = System.nanoTime();
            if (log.enabled(AgentConfig.LogLevel.INFO)) {
                log.info("started" + (late ? " (late attach)" : "") + ": " + pools.size() + " pools, " + routes.size()
                    + " routes from " + config.source() + " in " + (t4 - t0) / 1_000_000 + " ms (config and bridge "
                    + (t1 - t0) / 1_000_000 + ", pools " + (t2 - t1) / 1_000_000 + ", hooks " + (t3 - t2) / 1_000_000
                        + ", retransform " + (t4 - t3) / 1_000_000 + ")");
            }
        } catch (Throwable t) {
            for (MemoryPool p : pools.values()) {
                p.close();
            }
            throw t;
        }
    }

    /**
     * Volatile pools on tmpfs reserve their file in the background: start-up does not wait for a big pool's space
     * (creation still fails at once if the file system has less room than the pool, and pages are reserved before
     * they are handed out).
     */
    static final PoolOptions VOLATILE_OPTIONS = PoolOptions.DEFAULT.withReserveInBackground(true);

    /** Whether creating the configured pools needs the FFM linker (cto pools, devices, other file systems). */
    /**
     * Opens the pools on another core while the premain thread defines the bridge: at start-up the two take about as
     * long as each other (tens of ms each: the FFM classes and the file's first reservation, the java.base classes)
     * and need nothing of each other. Its errors reach the premain thread as if it had opened the pools itself.
     */
    private static final class PoolOpener extends Thread {
        private final AgentConfig config;
        private final AgentLog log;
        private Map<String, MemoryPool> pools;
        private Throwable failure;

        PoolOpener(AgentConfig config, AgentLog log) {
            super("jvmem-open-pools");
            setDaemon(true);
            this.config = config;
            this.log = log;
        }

        @Override
        public void run() {
            try {
                pools = openPools(config, log);
            } catch (Throwable t) {
                failure = t;
            }
        }

        /** The pools, once open (join orders their creation before our use); the opening's error, rethrown. */
        Map<String, MemoryPool> await() throws Exception {
            boolean interrupted = false;
            while (true) {
                try {
                    join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // premain does not give up half-way; the status is kept for the program
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            if (failure instanceof Exception e) {
                throw e;
            }
            if (failure instanceof Error e) {
                throw e;
            }
            return pools;
        }

        /** Start-up failed elsewhere: waits for the pools and closes them. */
        void closeWhenOpen() {
            try {
                for (MemoryPool p : await().values()) {
                    p.close();
                }
            } catch (Exception | Error ignored) {
                // the opening failed too; the first error is the one reported
            }
        }
    }

    private static Path configPath(String args) {
        String s = args != null && !args.isBlank() ? args.strip() : System.getProperty("jvmem.config");
        if (s == null || s.isBlank()) {
            throw new ConfigException("no config file: give it as -javaagent:jvmem-agent.jar=<file> or -Djvmem.config=<file>");
        }
        return Path.of(s);
    }

    static Map<String, MemoryPool> openPools(AgentConfig config, AgentLog log) {
        Map<String, MemoryPool> pools = new LinkedHashMap<>();
        for (PoolSpec spec : config.pools()) {
            try {
                MemoryPool p;
                if (spec.kind() == Kind.CTO) {
                    p = CtoPool.openOrCreate(spec.path(), spec.layout(), spec.size(), spec.onDirty() == OnDirty.RECREATE,
                            spec.options(PoolOptions.DEFAULT));
                    if (p.size() < spec.size() || p.size() > spec.maxSize()) { // an existing pool keeps its size (a growable one grows)
                        log.warn(config.message("pool." + spec.name() + ".size", null, "the pool file is " + bytes(p.size())
                                + ", the config asks " + bytes(spec.size()) + "; the file's size is used"));
                    }
                    if (((CtoPool) p).discardedDirtyContents()) {
                        log.warn(config.message("pool." + spec.name() + ".on-dirty", "pool." + spec.name() + ".path",
                                spec.path() + " was not closed cleanly (the program using it crashed or was killed): "
                                + "started afresh as on-dirty = recreate asks; its former contents are gone"));
                    }
                } else if (spec.memfd()) {
                    p = VolatilePool.createMemfd(spec.name(), spec.size(), spec.options(VOLATILE_OPTIONS));
                } else { // checks directory or device itself
                    p = VolatilePool.create(spec.name(), spec.path(), spec.size(), spec.options(VOLATILE_OPTIONS));
                }
                pools.put(spec.name(), p);
            } catch (PoolException e) {
                for (MemoryPool p : pools.values()) {
                    p.close();
                }
                String prefix = "pool." + spec.name() + ".";
                // the line to blame: size for a lack of room, layout for a layout mismatch, else the path
                String key = switch (e.reason()) {
                    case MAX_SIZE -> prefix + "max-size";
                    case TOO_LARGE -> config.lines().containsKey(prefix + "max-size") ? prefix + "max-size" : prefix + "size";
                    case NO_SPACE, TOO_SMALL -> prefix + "size";
                    case NUMA_NODE -> prefix + "numa";
                    case LAYOUT -> config.lines().containsKey(prefix + "layout") ? prefix + "layout" : prefix + "path";
                    default -> prefix + "path";
                };
                String hint = e.reason() == PoolErrorReason.NOT_CLOSED_CLEANLY ? " (set " + prefix + "on-dirty=recreate to start it afresh)"
                        : e.reason() == PoolErrorReason.NO_SPACE && spec.defaultPath() && spec.kind() == Kind.VOLATILE
                        ? " (" + spec.path() + ", where pools go by default, is smaller than the pool, as a container's"
                        + " /dev/shm often is: set " + prefix + "path = memfd: for a pool in memory with no directory)"
                        : "";
                throw config.error(key, prefix + "size", e.getMessage() + hint);
            }
        }
        return pools;
    }

    /** The pool's JMX attribute Fallbacks: the sum over the routes that use it. */
    private static void countFallbacks(MemoryPool p, List<Route> routes) {
        List<Route> mine = new ArrayList<>();
        for (Route r : routes) {
            if (r.pool == p) {
                mine.add(r);
            }
        }
        java.util.function.LongSupplier sum = new java.util.function.LongSupplier() {
            @Override
            public long getAsLong() { // not a lambda: its bootstrap costs start-up
                long n = 0;
                for (Route r : mine) {
                    n += r.fallbacks.sum();
                }
                return n;
            }
        };
        if (p instanceof VolatilePool v) {
            v.fallbacksFrom(sum);
        } else if (p instanceof CtoPool c) {
            c.fallbacksFrom(sum);
        }
    }

    /** A size as a config file would give it: "1 GiB", "32 MiB", "12345 bytes". */
    private static String bytes(long n) {
        String[] units = {"TiB", "GiB", "MiB", "KiB"};
        for (int i = 0; i < units.length; i++) {
            long unit = 1L << (10 * (4 - i));
            if (n >= unit && n % unit == 0) {
                return n / unit + " " + units[i];
            }
        }
        return n + " bytes";
    }

    private void exit() {
        Leaks leaks = sites.leaks;
        if (leaks != null) {
            leaks.freezeAges(); // the line below and the report's leaks give the same ages
        }
        String leaked = leaks == null ? null : leaks.summary();
        if (leaked != null) {
            log.warn(leaked);
        }
        for (Route r : routes) {
            String summary = r.fallbackSummary();
            if (summary != null) {
                log.warn(summary); // the first fallback was logged when it happened; this says how much followed
            }
        }
        if (config.report() != null) {
            try {
                Report.write(this, config.report());
            } catch (Exception e) {
                System.err.println("jvmem: cannot write the report to " + config.report() + ": " + e);
            }
        }
        Set<Set<Long>> done = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Route r : routes) {
            if (r.transients != null && done.add(r.transients)) {
                for (Long a : r.transients.toArray(new Long[0])) {
                    try {
                        r.pool.free(a);
                    } catch (RuntimeException e) {
                        // freed meanwhile by a cleaner
                    }
                }
                r.transients.clear();
            }
        }
        for (MemoryPool p : pools.values()) {
            if (p instanceof CtoPool c) {
                try {
                    c.close();
                } catch (RuntimeException e) {
                    System.err.println("jvmem: " + e.getMessage());
                }
            }
        }
    }

    AgentConfig config() {
        return config;
    }

    Map<String, MemoryPool> pools() {
        return pools;
    }

    List<Route> routes() {
        return routes;
    }

    /** The leak tracker, or null when {@code leak-detection=off}. */
    Leaks leaks() {
        return sites.leaks;
    }

    Sites sites() {
        return sites;
    }

    BridgeInstaller.HooksAccess hooks() {
        return hooks;
    }

    AgentTransformer transformer() {
        return transformer;
    }

    long uptimeMillis() {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
