package demo.app;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * An ordinary program that knows nothing of jvmem: an LRU cache of rendered "tiles" kept in direct buffers. Evicted
 * tiles are simply dropped, as most programs do, and the garbage collector releases them.
 */
public final class TileCache {
    private static final int MAX_TILES = 256;

    private final Map<Integer, ByteBuffer> tiles = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, ByteBuffer> eldest) {
            return size() > MAX_TILES;
        }
    };

    ByteBuffer tile(int id) {
        return tiles.computeIfAbsent(id, TileCache::render);
    }

    private static ByteBuffer render(int id) {
        int size = 4096 << (id % 6); // 4 KiB .. 128 KiB
        ByteBuffer b = ByteBuffer.allocateDirect(size);
        for (int i = 0; i < size; i += 8) {
            b.putLong(i, (long) id * 0x9E3779B97F4A7C15L + i);
        }
        return b;
    }

    public static void main(String[] args) {
        TileCache cache = new TileCache();
        CRC32C crc = new CRC32C();
        java.util.Random r = new java.util.Random(42);
        long bytes = 0;
        for (int i = 0; i < 50_000; i++) {
            ByteBuffer t = cache.tile((int) Math.abs(r.nextGaussian() * 400));
            crc.update(t.duplicate());
            bytes += t.capacity();
        }
        System.out.printf("TileCache: served %d tiles, %d MiB, checksum %08x%n", 50_000, bytes >> 20, crc.getValue());
    }
}
