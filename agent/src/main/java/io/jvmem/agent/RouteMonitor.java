package io.jvmem.agent;

import io.jvmem.allocator.PoolStats;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;

/** A route's {@link RouteMXBean}: its counters, and its sites' typed statistics summed from a pool snapshot. */
final class RouteMonitor implements RouteMXBean {
    private final Route route;
    private final Sites sites;

    RouteMonitor(Route route, Sites sites) {
        this.route = route;
        this.sites = sites;
    }

    static String objectName(String route) {
        return "io.jvmem:type=Route,name=" + io.jvmem.allocator.Mbeans.quoteIfNeeded(route);
    }

    /** allocations, bytes, in use: the sums over the route's sites of one pool snapshot. */
    private long[] totals() {
        long[] t = new long[3];
        PoolStats stats;
        try {
            stats = route.pool.stats();
        } catch (RuntimeException e) {
            return t; // a closed pool
        }
        for (Site site : sites.all()) {
            if (site.route == route) {
                PoolStats.TagStats s = stats.tag(site.tag.name());
                if (s != null) {
                    t[0] += s.requests();
                    t[1] += s.bytes();
                    t[2] += s.inUse();
                }
            }
        }
        return t;
    }

    @Override
    public String getName() {
        return route.name();
    }

    @Override
    public String getPool() {
        return route.spec.pool();
    }

    @Override
    public String[] getInclude() {
        return route.spec.include().toArray(new String[0]);
    }

    @Override
    public String[] getExclude() {
        return route.spec.exclude().toArray(new String[0]);
    }

    @Override
    public String[] getCalls() {
        List<String> out = new ArrayList<>();
        for (AgentConfig.Call c : route.calls) {
            out.add(c.configName);
        }
        return out.toArray(new String[0]);
    }

    @Override
    public long getAllocations() {
        return totals()[0];
    }

    @Override
    public long getBytes() {
        return totals()[1];
    }

    @Override
    public long getInUse() {
        return totals()[2];
    }

    @Override
    public long getFallbacks() {
        return route.fallbacks.sum();
    }

    @Override
    public long getFallbackBytes() {
        return route.fallbackBytes.get();
    }

    @Override
    public long getFailures() {
        return route.failures.sum();
    }

    @Override
    public long getBelowMinSize() {
        return route.belowMinSize.sum();
    }

    @Override
    public String[] getUnrouted() {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, LongAdder> u : new TreeMap<>(route.unrouted).entrySet()) {
            out.add(u.getKey() + " (seen " + u.getValue().sum() + ")");
        }
        return out.toArray(new String[0]);
    }
}
