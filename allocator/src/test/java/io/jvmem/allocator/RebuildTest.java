package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;

/** Reopening a close-to-open pool rebuilds slabs and free runs from the page map without damaging it. */
@org.junit.jupiter.api.Tag("unit")
class RebuildTest {
    @Test
    void reopenFreeingASurplusEmptySlabBeforeAOnePageFreeRunKeepsThePageMapTiled() throws Exception {
        Path dir = Files.createTempDirectory(TestPools.SHM, "jvmem-rebuild");
        Path path = dir.resolve("pool");
        PoolOptions options = PoolOptions.DEFAULT.withArenas(1).withThreadCacheMax(0).withDecayMillis(-1);
        CtoPool.create(path, "rebuild", CtoPool.MIN_POOL, 0600, options).close();
        int cls = 0;
        while (SizeClasses.slabPages(cls) != 2) {
            cls++;
        }
        // Closed pool: [0,2) empty slab, [2,4) empty slab (surplus: the single arena keeps one spare per class),
        // [4] one-page free run, [5,7) slab with one live region, [7,end) free.
        try (FileChannel fc = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
             Arena arena = Arena.ofConfined()) {
            MemorySegment seg = fc.map(FileChannel.MapMode.READ_WRITE, 0, fc.size(), arena);
            PoolLayout layout = PoolLayout.read(seg, fc.size());
            PageMap map = new PageMap(seg, layout, layout.heapPagesAt(fc.size()));
            for (int slab = 0; slab < 3; slab++) {
                long start = slab == 2 ? 5 : 2L * slab;
                for (int i = 0; i < 2; i++) {
                    map.set(start + i, PageMap.slabAtRest(slab == 2 ? 1 : 0, cls, i)); // regions in use
                }
            }
            map.set(4, PageMap.free(1, PageMap.HEAD | PageMap.TAIL, 0));
            long rest = map.pages - 7;
            map.set(7, PageMap.free(rest, PageMap.HEAD, 0));
            map.set(map.pages - 1, PageMap.free(rest, PageMap.TAIL, 0));
            new LiveMap(seg, layout).set(5L << SizeClasses.LG_PAGE);
            layout.seal(seg);
        }
        assertEquals(PoolCheck.Status.CONSISTENT, CtoPool.check(path, "rebuild").status());
        try (CtoPool pool = CtoPool.open(path, "rebuild", false, options)) {
            PoolCheck c = pool.check();
            assertTrue(c.consistent(), c.problems().toString());
            assertEquals(2, pool.allocator().pages.freeRunCount()); // [2,5) coalesced, [7,end)
        }
        PoolCheck c = CtoPool.check(path, "rebuild");
        assertEquals(PoolCheck.Status.CONSISTENT, c.status(), c.problems().toString());
        Files.delete(path);
        Files.delete(dir);
    }
}
