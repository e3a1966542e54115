package io.jvmem.agent;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits text into key/value entries exactly as {@code java.util.Properties.load(Reader)} does, keeping the line each
 * entry starts on (Properties keeps none, and every config error must name its line). The grammar: natural lines end
 * at {@code \n}, {@code \r} or {@code \r\n}; leading blanks (space, tab, form feed) of every natural line are skipped;
 * a line whose first non-blank character is {@code #} or {@code !} is a comment (only where a logical line starts);
 * an odd number of backslashes at the end of a line continues the logical line on the next one (also at the end of
 * the text); the key ends at the first unescaped {@code =}, {@code :} or blank, and blanks around one {@code =} or
 * {@code :} separate it from the value; {@code \\uXXXX}, {@code \t}, {@code \n}, {@code \r}, {@code \f} are escapes and
 * a backslash before any other character stands for that character. A line continued into a comment-looking line
 * keeps it, and an inline {@code #} is part of the value: Properties has no inline comments.
 *
 * <p>{@code PropertiesReaderTest} checks this against {@code Properties.load} on many generated inputs.
 */
final class PropertiesReader {
    /**
     * One entry: key and value after escapes, both as written (escapes intact), and its line (1-based): the line of
     * the logical line's first character, not counting a lone continuation backslash before it.
     */
    record Entry(String key, String value, String rawKey, String rawValue, int line) {
    }

    /** A {@code \\uXXXX} escape without four hex digits (Properties throws IllegalArgumentException for it). */
    static final class MalformedEscapeException extends IllegalArgumentException {
        final int line;
        final String rawKey;

        MalformedEscapeException(int line, String rawKey) {
            super("malformed \\uXXXX escape (a backslash-u needs four hex digits; write \\\\u for a backslash and a u)");
            this.line = line;
            this.rawKey = rawKey;
        }
    }

    private final String s;
    private int i;
    /** The natural line of the character at {@link #i}. */
    private int line = 1;
    private final StringBuilder buf = new StringBuilder();
    /** The line the logical line in {@link #buf} starts on. */
    private int startLine;

    private PropertiesReader(String s) {
        this.s = s;
    }

    /**
     * The entries of {@code text} in order (a key given twice appears twice; Properties would keep the last).
     *
     * @throws MalformedEscapeException where Properties.load throws IllegalArgumentException
     */
    static List<Entry> read(String text) {
        PropertiesReader r = new PropertiesReader(text);
        List<Entry> out = new ArrayList<>();
        int limit;
        while ((limit = r.readLine()) >= 0) {
            out.add(r.entry(limit));
        }
        return out;
    }

    private char next() {
        char c = s.charAt(i++);
        if (c == '\n' || c == '\r' && (i >= s.length() || s.charAt(i) != '\n')) {
            line++;
        }
        return c;
    }

    /** Properties.LineReader.readLine over the whole text: the logical line's length in {@link #buf}, or -1 at the end. */
    private int readLine() {
        buf.setLength(0);
        boolean skipWhiteSpace = true;
        boolean appendedLineBegin = false;
        boolean precedingBackslash = false;
        int n = s.length();
        while (true) {
            if (i >= n) {
                int len = buf.length();
                if (len == 0) {
                    return -1;
                }
                return precedingBackslash ? len - 1 : len;
            }
            int at = line;
            char c = next();
            if (skipWhiteSpace) {
                if (c == ' ' || c == '\t' || c == '\f') {
                    continue;
                }
                if (!appendedLineBegin && (c == '\r' || c == '\n')) {
                    continue;
                }
                skipWhiteSpace = false;
                appendedLineBegin = false;
            }
            if (buf.length() == 0 && (c == '#' || c == '!')) {
                while (true) { // a comment: the rest of the natural line
                    if (i >= n) {
                        return -1;
                    }
                    char d = next();
                    if (d == '\r' || d == '\n') {
                        break;
                    }
                }
                skipWhiteSpace = true;
                continue;
            }
            if (c != '\n' && c != '\r') {
                if (buf.length() == 0) {
                    startLine = at; // the line of its first character that stays (a continuation may remove one)
                }
                buf.append(c);
                precedingBackslash = c == '\\' && !precedingBackslash;
            } else {
                int len = buf.length();
                if (len == 0) {
                    skipWhiteSpace = true;
                    continue;
                }
                if (i >= n) {
                    return precedingBackslash ? len - 1 : len;
                }
                if (precedingBackslash) {
                    buf.setLength(len - 1); // the backslash at the end of the line is not part of it
                    skipWhiteSpace = true;
                    appendedLineBegin = true;
                    precedingBackslash = false;
                    if (c == '\r' && s.charAt(i) == '\n') {
                        next();
                    }
                } else {
                    return len;
                }
            }
        }
    }

    /** Properties.load0: splits the logical line into key and value. */
    private Entry entry(int limit) {
        int keyLen = 0;
        int valueStart = limit;
        boolean hasSep = false;
        boolean precedingBackslash = false;
        while (keyLen < limit) {
            char c = buf.charAt(keyLen);
            if ((c == '=' || c == ':') && !precedingBackslash) {
                valueStart = keyLen + 1;
                hasSep = true;
                break;
            } else if ((c == ' ' || c == '\t' || c == '\f') && !precedingBackslash) {
                valueStart = keyLen + 1;
                break;
            }
            precedingBackslash = c == '\\' && !precedingBackslash;
            keyLen++;
        }
        while (valueStart < limit) {
            char c = buf.charAt(valueStart);
            if (c != ' ' && c != '\t' && c != '\f') {
                if (!hasSep && (c == '=' || c == ':')) {
                    hasSep = true;
                } else {
                    break;
                }
            }
            valueStart++;
        }
        String rawKey = buf.substring(0, keyLen);
        String rawValue = buf.substring(valueStart, limit);
        return new Entry(unescape(rawKey, rawKey), unescape(rawValue, rawKey), rawKey, rawValue, startLine);
    }

    /** Properties.loadConvert. */
    private String unescape(String in, String rawKey) {
        if (in.indexOf('\\') < 0) {
            return in;
        }
        StringBuilder out = new StringBuilder(in.length());
        int end = in.length();
        int k = 0;
        while (k < end) {
            char c = in.charAt(k++);
            if (c != '\\') {
                out.append(c);
                continue;
            }
            c = in.charAt(k++); // a logical line never ends in an unescaped backslash
            if (c == 'u') {
                if (k > end - 4) {
                    throw new MalformedEscapeException(startLine, rawKey);
                }
                int value = 0;
                for (int j = 0; j < 4; j++) {
                    char h = in.charAt(k++);
                    int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                            : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1; // ASCII only, as Properties
                    if (d < 0) {
                        throw new MalformedEscapeException(startLine, rawKey);
                    }
                    value = (value << 4) + d;
                }
                out.append((char) value);
            } else {
                out.append(switch (c) {
                    case 't' -> '\t';
                    case 'r' -> '\r';
                    case 'n' -> '\n';
                    case 'f' -> '\f';
                    default -> c;
                });
            }
        }
        return out.toString();
    }
}
