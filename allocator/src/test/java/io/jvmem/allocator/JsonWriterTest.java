package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 1, unit = TimeUnit.MINUTES)
@org.junit.jupiter.api.Tag("unit")
class JsonWriterTest {
    @Test
    void whatItWritesReadsBackUnchanged() {
        String nasty = "q\"\\\n\r\t\u0001é";
        String text = JsonWriter.spaced().beginObject(true)
                .name("pools").beginArray(true)
                .beginObject().field("name", nasty).field("size", Long.MAX_VALUE).field("ok", true).field("r", 0.5)
                .field("nan", Double.NaN).field("include", List.of("a", "b")).endObject()
                .beginObject().endObject()
                .endArray()
                .name("none").value((String) null)
                .endObject().toString();
        Map<?, ?> root = (Map<?, ?>) Json.parse(text);
        Map<?, ?> p = (Map<?, ?>) ((List<?>) root.get("pools")).get(0);
        assertEquals(nasty, p.get("name"));
        assertEquals(Long.MAX_VALUE, p.get("size"));
        assertEquals(Boolean.TRUE, p.get("ok"));
        assertEquals(0.5, ((Number) p.get("r")).doubleValue());
        assertEquals(null, p.get("nan"));
        assertEquals(List.of("a", "b"), p.get("include"));
        assertEquals(Map.of(), ((List<?>) root.get("pools")).get(1));
        assertEquals(true, root.containsKey("none"));
    }

    @Test
    void multilineContainersPutEachElementOnItsOwnIndentedLine() {
        String text = JsonWriter.spaced().beginObject(true).name("a").beginArray(true)
                .beginObject().field("x", 1).field("y", "z").endObject().beginObject().endObject().endArray()
                .name("b").beginObject().field("c", 2).endObject().endObject().toString();
        assertEquals("{\n  \"a\": [\n    {\"x\": 1, \"y\": \"z\"},\n    {}\n  ],\n  \"b\": {\"c\": 2}\n}", text);
        assertEquals("{\"a\":[1,2],\"b\":\"c\"}", JsonWriter.compact().beginObject().name("a").beginArray().value(1).value(2)
                .endArray().field("b", "c").endObject().toString());
    }

    @Test
    void anUnclosedOrOverclosedDocumentIsRefused() {
        assertThrows(IllegalStateException.class, () -> JsonWriter.compact().beginObject().toString());
        assertThrows(IllegalStateException.class, () -> JsonWriter.compact().beginArray().endArray().endArray());
        assertThrows(IllegalStateException.class, () -> JsonWriter.compact().value(1).value(2));
    }

    @Test
    void theJsonStatsPrintIsValidJsonWithEverySection() throws Exception {
        try (VolatilePool pool = VolatilePool.create("json \"quoted\"", java.nio.file.Path.of("/dev/shm"), 16L << 20)) {
            pool.malloc(100, AllocationTag.define("tag\nwith newline"));
            Map<?, ?> j = (Map<?, ?>) ((Map<?, ?>) Json.parse(pool.statsPrint("J"))).get("jvmem");
            assertEquals("json \"quoted\"", ((Map<?, ?>) j.get("config")).get("name"));
            assertEquals(1L, ((Map<?, ?>) j.get("stats")).get("mallocs"));
            assertEquals(List.of("version", "config", "stats", "tier", "tags", "bins", "large", "arenas"), List.copyOf(j.keySet()));
        }
    }
}
