package io.jvmem.allocator;

import static io.jvmem.allocator.TestPools.ALL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** pmemcto_wcsdup: UTF-32 wide strings (Linux wchar_t), NUL-terminated. */
@org.junit.jupiter.api.Tag("unit")
class WcsdupTest {
    private static final String NON_BMP = "a\uD83D\uDE00 \uD834\uDD1E é 中"; // 😀 and 𝄞 are surrogate pairs in Java

    private static String readBack(long w) {
        StringBuilder b = new StringBuilder();
        for (long p = w; ; p += 4) {
            int cp = ALL.get(ValueLayout.JAVA_INT_UNALIGNED, p);
            if (cp == 0) {
                return b.toString();
            }
            b.appendCodePoint(cp);
        }
    }

    @Test
    @Timeout(60)
    void wcsdupRoundTripsNonBmpCharactersAsOneCodePointEach() {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL)) {
            long w = pool.wcsdup(NON_BMP);
            assertNotEquals(0, w);
            assertEquals(NON_BMP, readBack(w));
            int n = NON_BMP.codePointCount(0, NON_BMP.length());
            assertEquals(0x1F600, ALL.get(ValueLayout.JAVA_INT_UNALIGNED, w + 4)); // one unit, not two surrogates
            assertEquals(0, ALL.get(ValueLayout.JAVA_INT_UNALIGNED, w + 4L * n));
            assertTrue(pool.usableSize(w) >= 4L * (n + 1));
        }
    }

    @Test
    @Timeout(60)
    void wcsdupOfANativeWideStringCopiesIt() {
        try (VolatilePool pool = TestPools.create(VolatilePool.MIN_POOL)) {
            long w = pool.wcsdup(NON_BMP);
            long copy = pool.wcsdup(w);
            assertNotEquals(w, copy);
            assertEquals(NON_BMP, readBack(copy));
        }
    }
}
