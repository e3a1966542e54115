package io.jvmem.agent;

import io.jvmem.agent.AgentConfig.RouteSpec;
import java.util.List;

/**
 * Which route, if any, selects a class. A prefix matches the class or package it names and everything below it
 * ({@code io.netty} matches {@code io.netty.buffer.X} but not {@code io.nettyx.Y}; a class name also matches its
 * nested classes). The most specific matching include wins; a route's exclude removes the class from that route,
 * and the next most specific route may then take it.
 */
final class RouteTable {
    private final List<Route> routes;

    RouteTable(List<Route> routes) {
        this.routes = List.copyOf(routes);
    }

    /** The route for a class given by its binary name (dots), or null. */
    Route select(String className) {
        Route best = null;
        int bestLength = -1;
        for (Route r : routes) {
            if (matchesAny(r.spec.exclude(), className)) {
                continue;
            }
            for (String p : r.spec.include()) {
                if (p.length() > bestLength && matches(p, className)) {
                    best = r;
                    bestLength = p.length();
                }
            }
        }
        return best;
    }

    static boolean matches(String prefix, String className) {
        if (!className.startsWith(prefix)) {
            return false;
        }
        if (className.length() == prefix.length()) {
            return true;
        }
        char next = className.charAt(prefix.length());
        return next == '.' || next == '$';
    }

    private static boolean matchesAny(List<String> prefixes, String className) {
        for (String p : prefixes) {
            if (matches(p, className)) {
                return true;
            }
        }
        return false;
    }

    List<Route> routes() {
        return routes;
    }

    boolean isEmpty() {
        return routes.isEmpty();
    }

    static RouteSpec specOf(Route r) {
        return r.spec;
    }
}
