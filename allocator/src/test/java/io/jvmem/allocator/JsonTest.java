package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

@org.junit.jupiter.api.Tag("unit")
@org.junit.jupiter.api.Timeout(60)
class JsonTest {
    @Test
    void parsesAReportShapedDocument() {
        Object v = Json.parse("""
                {"pools":[{"name":"p","kind":"volatile","size":268435456,"inUse":0,"ratio":0.5e1}],
                 "routes":[], "sites":[{"site":"a.B.m(B.java:12)","ok":true,"none":null,"s":"q\\"\\u00e9\\n"}]}
                """);
        Map<?, ?> root = (Map<?, ?>) v;
        Map<?, ?> pool = (Map<?, ?>) ((List<?>) root.get("pools")).get(0);
        assertEquals(268435456L, pool.get("size"));
        assertEquals(0L, pool.get("inUse"));
        assertEquals(new BigDecimal("0.5e1"), pool.get("ratio"));
        assertEquals(List.of(), root.get("routes"));
        Map<?, ?> site = (Map<?, ?>) ((List<?>) root.get("sites")).get(0);
        assertEquals("a.B.m(B.java:12)", site.get("site"));
        assertEquals(Boolean.TRUE, site.get("ok"));
        assertEquals(Arrays.asList((Object) null), Arrays.asList(site.get("none")));
        assertEquals("q\"é\n", site.get("s"));
        assertEquals(new BigInteger("18446744073709551616"), Json.parse("18446744073709551616"));
        assertEquals(-9223372036854775807L, Json.parse("-9223372036854775807"));
    }

    @Test
    void rejectsMalformedInput() {
        for (String bad : List.of("", "{", "{\"a\":1,}", "[1 2]", "01", "\"x", "{\"a\":1}x", "nul", "{\"a\":1,\"a\":2}",
                "1.", "-", "\"\t\"")) {
            assertThrows(IllegalArgumentException.class, () -> Json.parse(bad), bad);
        }
    }
}
