package io.jvmem.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The agent's exit report, {@code {"pools":[...], "routes":[...], "sites":[...]}}, with lookups that fail the
 * test with the whole report in the message when something the contract names is missing.
 */
final class Report {
    final Path file;
    final String text;
    final Map<String, Object> root;
    /** The report followed by the forked run's command, config and output, for failure messages. */
    final String dump;

    private Report(Path file, String text, Map<String, Object> root, String context) {
        this.file = file;
        this.text = text;
        this.root = root;
        this.dump = text + context;
    }

    @SuppressWarnings("unchecked")
    static Report read(Path file, String context) {
        assertTrue(Files.isRegularFile(file), "the agent wrote no report at " + file + context);
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError("cannot read the report " + file, e);
        }
        Object parsed;
        try {
            parsed = io.jvmem.allocator.Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw new AssertionError("the report " + file + " is not valid JSON: " + e.getMessage() + "\n" + text + context);
        }
        assertInstanceOf(Map.class, parsed, "the report is not a JSON object:\n" + text + context);
        Report r = new Report(file, text, (Map<String, Object>) parsed, context);
        for (String key : List.of("pools", "routes", "sites")) {
            assertInstanceOf(List.class, r.root.get(key), "the report has no \"" + key + "\" array:\n" + text + context);
        }
        return r;
    }

    @SuppressWarnings("unchecked")
    List<Map<String, Object>> list(String key) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object o : (List<Object>) root.get(key)) {
            assertInstanceOf(Map.class, o, "an entry of \"" + key + "\" is not an object:\n" + dump);
            out.add((Map<String, Object>) o);
        }
        return out;
    }

    Map<String, Object> named(String key, String name) {
        for (Map<String, Object> e : list(key)) {
            if (name.equals(e.get("name"))) {
                return e;
            }
        }
        return fail("the report's \"" + key + "\" has no entry named \"" + name + "\":\n" + dump);
    }

    Map<String, Object> pool(String name) {
        return named("pools", name);
    }

    Map<String, Object> route(String name) {
        return named("routes", name);
    }

    List<Map<String, Object>> sites() {
        return list("sites");
    }

    /** A numeric field of a report entry, which must be a non-negative JSON integer. */
    long number(Map<String, Object> entry, String field) {
        Object v = entry.get(field);
        assertNotNull(v, "field \"" + field + "\" missing from " + entry + " in report:\n" + dump);
        long n;
        if (v instanceof Long l) {
            n = l;
        } else if (v instanceof BigInteger b) {
            n = b.longValueExact();
        } else if (v instanceof BigDecimal d) {
            n = d.longValueExact();
        } else {
            return fail("field \"" + field + "\" of " + entry + " is not a JSON number: " + v + "\n" + dump);
        }
        assertTrue(n >= 0, "field \"" + field + "\" of " + entry + " is negative:\n" + dump);
        return n;
    }

    String string(Map<String, Object> entry, String field) {
        Object v = entry.get(field);
        assertInstanceOf(String.class, v, "field \"" + field + "\" of " + entry + " is not a string; report:\n" + dump);
        return (String) v;
    }

    /**
     * If the report carries the agent's own counters ({@code "agent":{"rewriteFailures":N,...}}), no class may have
     * failed to rewrite: a failed class loads unmodified, so its allocations silently bypass the pools.
     */
    @SuppressWarnings("unchecked")
    void assertNoRewriteFailures() {
        if (root.get("agent") instanceof Map<?, ?> agent && agent.containsKey("rewriteFailures")) {
            assertEquals(0, number((Map<String, Object>) agent, "rewriteFailures"),
                    "the agent failed to rewrite classes (they load unmodified; see its stderr):\n" + dump);
        }
    }

    /**
     * If the report carries the agent's own counters, no cleaner action failed: a pool buffer released by a
     * library (its cleaner run by {@code invokeCleaner} or by the GC) returned its block without error.
     */
    @SuppressWarnings("unchecked")
    void assertNoReleaseErrors() {
        if (root.get("agent") instanceof Map<?, ?> agent && agent.containsKey("releaseErrors")) {
            assertEquals(0, number((Map<String, Object>) agent, "releaseErrors"),
                    "a pool buffer's cleaner failed to release its block:\n" + dump);
        }
    }

    /**
     * Route {@code name}, whose include names a package the program does not have, served nothing: no allocation on
     * the route, none in its pool (named the same), none at any of its sites.
     */
    void assertNothingRouted(String name) {
        assertEquals(0, number(route(name), "allocations"), "route " + name + " includes only some.other.pkg:\n" + dump);
        assertEquals(0, number(pool(name), "allocations"), "pool " + name + " should be unused:\n" + dump);
        assertTrue(sites().stream().noneMatch(s -> name.equals(s.get("route")) && number(s, "allocations") > 0),
                "a site counted allocations on route " + name + ":\n" + dump);
    }

    /** Allocations counted on {@code route} by the sites whose text starts with {@code method + "("}. */
    long siteAllocations(String route, String method) {
        return sites().stream()
                .filter(s -> route.equals(s.get("route")) && string(s, "site").startsWith(method + "("))
                .mapToLong(s -> number(s, "allocations")).sum();
    }

    void assertField(Map<String, Object> entry, String field, Object expected) {
        assertEquals(expected, entry.get(field), "field \"" + field + "\" of " + entry + "\n" + dump);
    }
}
