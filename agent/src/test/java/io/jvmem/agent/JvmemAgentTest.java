package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@org.junit.jupiter.api.Tag("unit")
class JvmemAgentTest {
    @Test
    @Timeout(10)
    void featureReleaseIsReadFromEverySpecificationVersionForm() {
        assertEquals(8, JvmemAgent.feature("1.8"));
        assertEquals(17, JvmemAgent.feature("17"));
        assertEquals(22, JvmemAgent.feature("22"));
        assertEquals(25, JvmemAgent.feature("25"));
        assertEquals(0, JvmemAgent.feature(null));
        assertEquals(0, JvmemAgent.feature("unknown"));
    }

    @Test
    @Timeout(10)
    void thePremainClassIsCompiledForJava8() throws Exception {
        try (var in = JvmemAgent.class.getResourceAsStream("JvmemAgent.class")) {
            byte[] head = in.readNBytes(8);
            assertEquals(52, (head[6] & 0xff) << 8 | head[7] & 0xff, "class file major version 52 (Java 8)");
        }
    }
}
