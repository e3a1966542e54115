package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** vmem_stats_print options: g, m, a, b, l omit sections; J prints JSON; unknown letters are ignored. */
@org.junit.jupiter.api.Tag("unit")
class StatsPrintTest {
    private static VolatilePool pool;

    @BeforeAll
    static void create() {
        pool = TestPools.create(32L << 20);
        pool.malloc(100, AllocationTag.define("print.tag"));
        pool.malloc(100_000);
        pool.malloc(6L << 20);
    }

    @AfterAll
    static void delete() {
        pool.delete();
    }

    @Test
    void theDefaultPrintHasEverySection() {
        String s = pool.statsPrint(null);
        for (String part : new String[] {"Version:", "Allocated:", "bins:", "large:", "arenas[0]", "print.tag"}) {
            assertTrue(s.contains(part), part + " missing in\n" + s);
        }
    }

    @Test
    void eachLetterOmitsItsSection() {
        assertFalse(pool.statsPrint("g").contains("Version:"));
        assertFalse(pool.statsPrint("m").contains("Allocated:"));
        assertFalse(pool.statsPrint("a").contains("arenas[0]"));
        assertFalse(pool.statsPrint("b").contains("bins:"));
        assertFalse(pool.statsPrint("l").contains("large:"));
        assertTrue(pool.statsPrint("l").contains("bins:"));
    }

    @Test
    void unknownLettersAreIgnored() {
        assertEquals(pool.statsPrint("").length(), pool.statsPrint("xyz").length());
    }

    @Test
    void jsonIsWellFormedAndHonoursTheLetters() {
        String all = pool.statsPrint("J");
        Json.parse(all);
        assertTrue(all.contains("\"allocated\":") && all.contains("\"bins\":") && all.contains("\"arenas\":"));
        String some = pool.statsPrint("Jgmal");
        Json.parse(some);
        assertFalse(some.contains("\"allocated\":"));
        assertFalse(some.contains("\"arenas\":"));
        assertTrue(some.contains("\"bins\":"));
    }

    /** Minimal strict JSON reader: throws on anything malformed. */
    static final class Json {
        private final String s;
        private int i;

        private Json(String s) {
            this.s = s;
        }

        static void parse(String s) {
            Json j = new Json(s);
            j.value();
            if (j.i != s.length()) {
                throw new IllegalArgumentException("trailing text at " + j.i);
            }
        }

        private void value() {
            char c = s.charAt(i);
            if (c == '{') {
                i++;
                if (s.charAt(i) != '}') {
                    do {
                        string();
                        expect(':');
                        value();
                    } while (s.charAt(i) == ',' && ++i > 0);
                }
                expect('}');
            } else if (c == '[') {
                i++;
                if (s.charAt(i) != ']') {
                    do {
                        value();
                    } while (s.charAt(i) == ',' && ++i > 0);
                }
                expect(']');
            } else if (c == '"') {
                string();
            } else if (s.startsWith("true", i) || s.startsWith("null", i)) {
                i += 4;
            } else if (s.startsWith("false", i)) {
                i += 5;
            } else {
                int start = i;
                while (i < s.length() && "-+.eE0123456789".indexOf(s.charAt(i)) >= 0) {
                    i++;
                }
                if (start == i) {
                    throw new IllegalArgumentException("unexpected '" + c + "' at " + i);
                }
            }
        }

        private void string() {
            expect('"');
            while (s.charAt(i) != '"') {
                i += s.charAt(i) == '\\' ? 2 : 1;
            }
            i++;
        }

        private void expect(char c) {
            if (s.charAt(i) != c) {
                throw new IllegalArgumentException("expected '" + c + "' at " + i + " in " + s);
            }
            i++;
        }
    }
}
