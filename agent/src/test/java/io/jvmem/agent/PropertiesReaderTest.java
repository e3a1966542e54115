package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The hand-written reader against its slow oracle, {@code java.util.Properties.load}. */
@org.junit.jupiter.api.Tag("unit")
class PropertiesReaderTest {
    /** What Properties.load does with a text: the puts in order ("key=value" strings), or null if it throws. */
    private static List<String> oracle(String text) {
        List<String> puts = new ArrayList<>();
        Properties p = new Properties() {
            @Override
            public synchronized Object put(Object key, Object value) {
                puts.add(key + "=" + value);
                return super.put(key, value);
            }
        };
        try {
            p.load(new StringReader(text));
        } catch (IllegalArgumentException e) {
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return puts;
    }

    private static List<String> ours(String text) {
        try {
            List<String> out = new ArrayList<>();
            for (PropertiesReader.Entry e : PropertiesReader.read(text)) {
                out.add(e.key() + "=" + e.value());
            }
            return out;
        } catch (PropertiesReader.MalformedEscapeException e) {
            return null;
        }
    }

    /**
     * Where each of Properties' entries starts: the first line L such that lines 1..L make Properties put it. A line
     * break is added to each prefix, so that a prefix ending in a lone continuation backslash puts nothing (at the very
     * end of the text Properties would put an empty key for it).
     */
    private static List<Integer> oracleLines(String text) {
        List<Integer> ends = new ArrayList<>(); // offsets just past each line terminator, then the end
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n' || c == '\r' && (i + 1 >= text.length() || text.charAt(i + 1) != '\n')) {
                ends.add(i + 1);
            }
        }
        ends.add(text.length());
        List<Integer> lines = new ArrayList<>();
        for (int l = 0; l < ends.size(); l++) {
            String prefix = text.substring(0, ends.get(l)) + "\n";
            List<String> puts = oracle(prefix);
            int count = puts != null ? puts.size() : thrownAfter(prefix) + 1;
            while (lines.size() < count) {
                lines.add(l + 1);
            }
        }
        return lines;
    }

    private static int thrownAfter(String text) {
        int[] n = {0};
        Properties p = new Properties() {
            @Override
            public synchronized Object put(Object key, Object value) {
                n[0]++;
                return super.put(key, value);
            }
        };
        try {
            p.load(new StringReader(text));
        } catch (IllegalArgumentException | IOException e) {
            return n[0];
        }
        throw new AssertionError("expected a failure");
    }

    private static void check(String text) {
        List<String> expected = oracle(text);
        assertEquals(expected, ours(text), () -> "input: " + escape(text));
        if (expected != null) {
            List<Integer> lines = new ArrayList<>();
            for (PropertiesReader.Entry e : PropertiesReader.read(text)) {
                lines.add(e.line());
            }
            List<Integer> expectedLines = oracleLines(text);
            if (expectedLines.size() < lines.size()) { // only an empty entry from a lone backslash at the very end
                assertEquals(expectedLines.size() + 1, lines.size(), () -> "lines of input: " + escape(text));
                assertEquals("=", expected.get(expected.size() - 1), () -> "lines of input: " + escape(text));
                lines = lines.subList(0, expectedLines.size());
            }
            assertEquals(expectedLines.subList(0, lines.size()), lines, () -> "lines of input: " + escape(text));
        }
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            b.append(c >= 0x20 && c < 0x7f && c != '\\' ? String.valueOf(c) : String.format("\\u%04x", (int) c));
        }
        return b.append('"').toString();
    }

    @Test
    @Timeout(10)
    void handPickedInputsReadAsPropertiesReadsThem() {
        for (String t : List.of("", "a=b", "a = b", "a:b", "a b", "a\tb", "a\fb", "  a = b  ", "a", "a=", "=b", ":b", " =b",
                "a==b", "a=:b", "a :=b", "a\\=b=c", "a\\ b=c", "a\\:b", "a\\\\=b", "# c\na=b", "! c\na=b", "  # c\na=b",
                "a=b # not a comment", "a=b\\\n  c", "a=b\\\n# not a comment", "a=b\\", "a=b\\\n", "a=b\\\\", "a=b\\\\\\",
                "\\", "\\\n", "\\\n  ", "\\\n#c\nk=v", "a=b\r\nc=d", "a=b\rc=d", "a=b\\\r\n  c", "a=b\\\r  c", "\n\n\na=b\n\n",
                "a=\\u0041", "\\u0061=b", "a=\\u00", "a=\\u00g1", "a=\\t\\n\\r\\f\\x", "a=\\u004", "a=\\u00\\\n41",
                "\ufeffa=b", "a=é", "k=v\\\n\\\n\\\nw", "k\\\n=v", "# c\\\nk=v", "k=v\n#c\\\nx=y")) {
            check(t);
        }
    }

    @Test
    @Timeout(120)
    void generatedInputsReadAsPropertiesReadsThem() {
        String[] alphabet = {"a", "b", "k", "=", ":", " ", "\t", "\f", "\\", "\\", "\n", "\r", "\r\n", "#", "!", "u", "0",
            "4", "A", "f", "g", "n", "t", "é", "\\u0041", "\\u00"};
        SplittableRandom r = new SplittableRandom(20261130);
        for (int i = 0; i < 30_000; i++) {
            StringBuilder b = new StringBuilder();
            int len = r.nextInt(30);
            for (int k = 0; k < len; k++) {
                b.append(alphabet[r.nextInt(alphabet.length)]);
            }
            check(b.toString());
        }
    }

    @Test
    @Timeout(10)
    void aMalformedEscapeNamesItsLineAndRawKey() {
        PropertiesReader.MalformedEscapeException e = assertThrows(PropertiesReader.MalformedEscapeException.class,
                () -> PropertiesReader.read("a=b\n\nk\\u=\\u12"));
        assertEquals(3, e.line);
        assertEquals("k\\u", e.rawKey);
    }
}
