package io.jvmem.agent;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The registry of rewritten call sites. Ids are dense and start at 1 (0 means "no route"); a site seen again (a class
 * loaded by a second loader, or retransformed) keeps its id. Readers index a published array without locking.
 */
final class Sites {
    private volatile Site[] table = new Site[64];
    private final Map<String, Integer> ids = new HashMap<>();
    private int next = 1;
    /** Live blocks of explicit-release calls, for the leak report; null when {@code leak-detection=off}. */
    final Leaks leaks;

    Sites() {
        this(null);
    }

    Sites(Leaks leaks) {
        this.leaks = leaks;
    }

    synchronized int register(String name, String call, Route route) {
        String key = call + " " + name + " " + route.name();
        Integer id = ids.get(key);
        if (id != null) {
            return id;
        }
        int n = next++;
        Site[] t = table;
        if (n >= t.length) {
            t = java.util.Arrays.copyOf(t, t.length * 2);
        }
        t[n] = new Site(n, name, call, route, leaks);
        table = t;
        ids.put(key, n);
        return n;
    }

    Site get(int id) {
        Site[] t = table;
        return id > 0 && id < t.length ? t[id] : null;
    }

    synchronized List<Site> all() {
        List<Site> out = new ArrayList<>();
        Site[] t = table;
        for (int i = 1; i < next; i++) {
            out.add(t[i]);
        }
        return out;
    }
}
