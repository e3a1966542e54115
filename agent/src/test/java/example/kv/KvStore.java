package example.kv;

import io.jvmem.allocator.CtoPool;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * A small key-value store kept in a close-to-open pool: it finds its data again through the pool's root after a
 * restart. Every reference stored in the pool is an offset from the pool base ({@link CtoPool#offsetOf}), never an
 * address, because the next run may map the pool elsewhere.
 *
 * <pre>
 * root table: [magic u64][count u64][capacity u64][entry offset u64 × capacity]
 * entry:      [key length u32][value length u32][key bytes][value bytes]
 * </pre>
 */
public final class KvStore {
    private static final long MAGIC = 0x4b5653544f524531L; // "KVSTORE1"
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private final CtoPool pool;

    public KvStore(CtoPool pool) {
        this.pool = pool;
        if (pool.root() == 0) {
            long table = pool.calloc(1, 24 + 8 * 16);
            if (table == 0) {
                throw new IllegalStateException("pool is full");
            }
            MemorySegment t = pool.segment(table);
            t.set(LONG, 0, MAGIC);
            t.set(LONG, 16, 16);
            pool.setRoot(table);
        } else if (table().get(LONG, 0) != MAGIC) {
            throw new IllegalStateException("the pool's root is not a key-value table");
        }
    }

    private MemorySegment table() {
        return pool.segment(pool.root());
    }

    public synchronized long size() {
        return table().get(LONG, 8);
    }

    private int find(byte[] key) {
        MemorySegment t = table();
        long n = t.get(LONG, 8);
        for (int i = 0; i < n; i++) {
            MemorySegment e = pool.segment(pool.addressOf(t.get(LONG, 24 + 8L * i)));
            int kl = e.get(INT, 0);
            if (kl == key.length && MemorySegment.mismatch(e, 8, 8 + kl, MemorySegment.ofArray(key), 0, kl) < 0) {
                return i;
            }
        }
        return -1;
    }

    public synchronized String get(String key) {
        int i = find(key.getBytes(StandardCharsets.UTF_8));
        if (i < 0) {
            return null;
        }
        MemorySegment e = pool.segment(pool.addressOf(table().get(LONG, 24 + 8L * i)));
        int kl = e.get(INT, 0);
        int vl = e.get(INT, 4);
        return new String(e.asSlice(8 + kl, vl).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    public synchronized void put(String key, String value) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        byte[] v = value.getBytes(StandardCharsets.UTF_8);
        long entry = pool.malloc(8L + k.length + v.length);
        if (entry == 0) {
            throw new IllegalStateException("pool is full");
        }
        MemorySegment e = pool.segment(entry);
        e.set(INT, 0, k.length);
        e.set(INT, 4, v.length);
        MemorySegment.copy(MemorySegment.ofArray(k), 0, e, 8, k.length);
        MemorySegment.copy(MemorySegment.ofArray(v), 0, e, 8 + k.length, v.length);
        int i = find(k);
        MemorySegment t = table();
        if (i >= 0) {
            long old = t.get(LONG, 24 + 8L * i);
            t.set(LONG, 24 + 8L * i, pool.offsetOf(entry));
            pool.free(pool.addressOf(old));
            return;
        }
        long n = t.get(LONG, 8);
        long cap = t.get(LONG, 16);
        if (n == cap) {
            long bigger = pool.realloc(pool.root(), 24 + 8 * cap * 2);
            if (bigger == 0) {
                pool.free(entry);
                throw new IllegalStateException("pool is full");
            }
            pool.setRoot(bigger);
            t = table();
            t.set(LONG, 16, cap * 2);
        }
        t.set(LONG, 24 + 8L * n, pool.offsetOf(entry));
        t.set(LONG, 8, n + 1);
    }
}
