package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 2, unit = TimeUnit.MINUTES)
@org.junit.jupiter.api.Tag("unit")
class PoolEventsTest {
    @TempDir
    Path dir;

    private static final List<String> NAMES = List.of("io.jvmem.PoolCreated", "io.jvmem.PoolOpened", "io.jvmem.PoolClosed",
            "io.jvmem.PoolExhausted", "io.jvmem.Purge", "io.jvmem.InvalidFree", "io.jvmem.AllocationSample");

    @Test
    void aRecordingHoldsEachEventOfARunThatCausesIt() throws Exception {
        Path jfr = dir.resolve("run.jfr");
        try (Recording r = new Recording()) {
            for (String n : NAMES) {
                r.enable(n).withStackTrace();
            }
            r.start();
            try (VolatilePool pool = VolatilePool.create("events", Path.of("/dev/shm"), 16L << 20,
                    PoolOptions.DEFAULT.withDecayMillis(-1))) {
                AllocationTag tag = AllocationTag.define("sampled");
                long big = pool.malloc(8L << 20, tag);                  // an allocation sample (the first passes)
                assertEquals(0, pool.malloc(64L << 20));                // exhausted
                long bogus = big + 8;
                assertThrows(InvalidFreeException.class, () -> pool.free(bogus)); // invalid free
                pool.segment(big).fill((byte) 7);
                pool.free(big);
                assertTrue(pool.purge() > 0);                           // purge of the dirty pages
            }                                                           // closed
            Path file = dir.resolve("e.pool");
            CtoPool.create(file, "e", 16L << 20).close();               // created, closed
            CtoPool.open(file, "e").close();                            // opened, closed
            r.stop();
            r.dump(jfr);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(jfr);
        Set<String> seen = new TreeSet<>();
        for (RecordedEvent e : events) {
            seen.add(e.getEventType().getName());
            assertEquals(List.of("jvmem"), e.getEventType().getCategoryNames());
        }
        assertEquals(new TreeSet<>(NAMES), seen);
        RecordedEvent exhausted = first(events, "io.jvmem.PoolExhausted");
        assertEquals("events", exhausted.getString("pool"));
        assertEquals(64L << 20, exhausted.getLong("request"));
        assertEquals("TOO_LARGE", exhausted.getString("reason"));
        assertNotNull(exhausted.getStackTrace());
        RecordedEvent invalid = first(events, "io.jvmem.InvalidFree");
        assertEquals("free", invalid.getString("operation"));
        assertNotNull(invalid.getStackTrace());
        RecordedEvent purge = first(events, "io.jvmem.Purge");
        assertTrue(purge.getLong("bytes") >= 8L << 20, purge.toString());
        assertTrue(purge.getDuration().toNanos() > 0);
        RecordedEvent sample = first(events, "io.jvmem.AllocationSample");
        assertEquals("sampled", sample.getString("tag"));
        assertEquals(8L << 20, sample.getLong("size"));
        assertTrue(sample.getStackTrace().getFrames().stream()
                .anyMatch(f -> f.getMethod().getName().equals("aRecordingHoldsEachEventOfARunThatCausesIt")));
        assertEquals(2, events.stream().filter(e -> e.getEventType().getName().equals("io.jvmem.PoolCreated")).count());
        assertEquals(3, events.stream().filter(e -> e.getEventType().getName().equals("io.jvmem.PoolClosed")).count());
    }

    @Test
    void allocationSamplesAreThrottled() throws Exception {
        Path jfr = dir.resolve("samples.jfr");
        int n = 200_000;
        long t0;
        long t1;
        try (Recording r = new Recording(); VolatilePool pool = VolatilePool.create("throttle", Path.of("/dev/shm"), 16L << 20)) {
            r.enable("io.jvmem.AllocationSample");
            r.start();
            t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                pool.free(pool.malloc(32));
            }
            t1 = System.nanoTime();
            r.stop();
            r.dump(jfr);
        }
        long samples = RecordingFile.readAllEvents(jfr).size();
        long allowed = (t1 - t0) / PoolEvents.SAMPLE_PERIOD_NANOS + 2;
        assertTrue(samples <= allowed, samples + " samples of " + n + " allocations, at most " + allowed);
        // one candidate per 512 KiB on average: 6.4 MB of 32-byte blocks gives about 12; none at all is a 1e-5 chance
        assertTrue(samples >= 1, "no sample of " + n + " allocations");
    }

    @Test
    void theJdksDefaultSettingsRecordThem() throws Exception {
        // "default" does not name jvmem's events: they are recorded as their annotations say, enabled
        Path jfr = dir.resolve("default.jfr");
        try (Recording r = new Recording(jdk.jfr.Configuration.getConfiguration("default"))) {
            r.start();
            try (VolatilePool pool = VolatilePool.create("defaults", Path.of("/dev/shm"), 16L << 20)) {
                pool.malloc(PoolEvents.SAMPLE_BYTES); // always a candidate for a sample
            }
            r.stop();
            r.dump(jfr);
        }
        Set<String> seen = new TreeSet<>();
        for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
            if (e.getEventType().getName().startsWith("io.jvmem.")) {
                seen.add(e.getEventType().getName());
            }
        }
        assertEquals(Set.of("io.jvmem.PoolCreated", "io.jvmem.PoolClosed", "io.jvmem.AllocationSample"), seen);
    }

    private static RecordedEvent first(List<RecordedEvent> events, String name) {
        return events.stream().filter(e -> e.getEventType().getName().equals(name)).findFirst().orElseThrow();
    }
}
