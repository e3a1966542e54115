package io.jvmem.allocator;

/**
 * jvmem's one JSON emitter (after jemalloc's {@code emitter.h}): the agent's report, the JSON statistics print
 * ({@code statsPrint("J")}) and the CLI's {@code --json} output are all written with it, and read back with
 * {@link Json#parse}. A streaming writer over a {@link StringBuilder}: containers are opened and closed in order, and
 * the writer puts the commas. A container opened with {@code multiline} puts each element on its own line, indented
 * by its depth; others stay on one line. {@link #spaced()} writes {@code ", "} and {@code ": "} (the report's
 * look), {@link #compact()} neither. Not thread-safe: one writer per document.
 */
public final class JsonWriter {
    private final StringBuilder b = new StringBuilder(1024);
    private final String comma;
    private final String colon;
    /** Per open container: whether it is multiline (bit 0) and whether it has an element yet (bit 1). */
    private int[] stack = new int[16];
    private int depth;
    /** A name was written and waits for its value. */
    private boolean afterName;

    private JsonWriter(boolean spaced) {
        this.comma = spaced ? ", " : ",";
        this.colon = spaced ? ": " : ":";
    }

    /** A writer with no spaces between tokens. */
    public static JsonWriter compact() {
        return new JsonWriter(false);
    }

    /** A writer with a space after each comma and colon. */
    public static JsonWriter spaced() {
        return new JsonWriter(true);
    }

    public JsonWriter beginObject() {
        return open('{', false);
    }

    public JsonWriter beginObject(boolean multiline) {
        return open('{', multiline);
    }

    public JsonWriter endObject() {
        return close('}');
    }

    public JsonWriter beginArray() {
        return open('[', false);
    }

    public JsonWriter beginArray(boolean multiline) {
        return open('[', multiline);
    }

    public JsonWriter endArray() {
        return close(']');
    }

    /** The name of the next member of the current object. */
    public JsonWriter name(String name) {
        element();
        quote(name);
        b.append(colon);
        afterName = true;
        return this;
    }

    public JsonWriter value(String s) {
        element();
        if (s == null) {
            b.append("null");
        } else {
            quote(s);
        }
        return this;
    }

    public JsonWriter value(long n) {
        element();
        b.append(n);
        return this;
    }

    public JsonWriter value(boolean v) {
        element();
        b.append(v);
        return this;
    }

    /** A finite number; NaN and infinities, which JSON cannot hold, are written as null. */
    public JsonWriter value(double d) {
        element();
        if (Double.isFinite(d)) {
            b.append(d);
        } else {
            b.append("null");
        }
        return this;
    }

    public JsonWriter field(String name, String value) {
        return name(name).value(value);
    }

    public JsonWriter field(String name, long value) {
        return name(name).value(value);
    }

    public JsonWriter field(String name, boolean value) {
        return name(name).value(value);
    }

    public JsonWriter field(String name, double value) {
        return name(name).value(value);
    }

    /** An array of strings on one line. */
    public JsonWriter field(String name, Iterable<String> values) {
        name(name).beginArray();
        for (String v : values) {
            value(v);
        }
        return endArray();
    }

    /**
     * The document; every container must be closed.
     *
     * @throws IllegalStateException if a container is still open
     */
    @Override
    public String toString() {
        if (depth != 0) {
            throw new IllegalStateException(depth + " JSON containers still open");
        }
        return b.toString();
    }

    private JsonWriter open(char c, boolean multiline) {
        element();
        b.append(c);
        if (depth == stack.length) {
            stack = java.util.Arrays.copyOf(stack, depth * 2);
        }
        stack[depth++] = multiline ? 1 : 0;
        return this;
    }

    private JsonWriter close(char c) {
        if (depth == 0 || afterName) {
            throw new IllegalStateException("no open container to close with " + c);
        }
        int state = stack[--depth];
        if ((state & 1) != 0) {
            newline(depth);
        }
        b.append(c);
        return this;
    }

    /** Before a value or a name: the comma and line break it needs, unless it is the value of a name. */
    private void element() {
        if (afterName) {
            afterName = false;
            return;
        }
        if (depth == 0) {
            if (b.length() > 0) {
                throw new IllegalStateException("a JSON document has one top-level value");
            }
            return;
        }
        int state = stack[depth - 1];
        boolean multiline = (state & 1) != 0;
        if ((state & 2) != 0) {
            b.append(multiline ? "," : comma);
        }
        stack[depth - 1] = state | 2;
        if (multiline) {
            newline(depth);
        }
    }

    private void newline(int indent) {
        b.append('\n');
        for (int i = 0; i < indent; i++) {
            b.append("  ");
        }
    }

    private void quote(String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append("\\u00").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
