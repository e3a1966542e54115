package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvmem.allocator.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The agent's JMX beans, JFR events and leak report, each seen from outside a forked JVM that causes them. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
@org.junit.jupiter.api.Tag("integration")
class ObservabilityIT {
    private static final Path JAR = Path.of("target/jvmem-agent.jar").toAbsolutePath();

    @TempDir
    Path dir;

    private record Result(int exit, String out, List<String> err) {
    }

    private Result java(Path config, String... args) throws IOException, InterruptedException {
        assertTrue(Files.isRegularFile(JAR), "build the agent jar first: " + JAR);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-javaagent:" + JAR + "=" + config,
                "-cp", System.getProperty("java.class.path")));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8),
                new String(err, StandardCharsets.UTF_8).lines().toList());
    }

    private Path config(String... lines) throws IOException {
        Path f = Files.createTempFile(dir, "jvmem", ".properties");
        Files.write(f, List.of(lines));
        return f;
    }

    @Test
    void theAgentNeverMakesThePlatformMBeanServerAndRegistersItsBeansOnceSomethingDoes() throws Exception {
        // making it costs about 0.5 s of CPU, which an idle program under the agent paid a second after its start
        Path c = config("pool.main.size=32m", "route.r.include=sample.observe", "route.r.pool=main");
        Result r = java(c, "sample.observe.LateServer", String.valueOf(3 * io.jvmem.allocator.Mbeans.DELAY_MILLIS));
        assertEquals(0, r.exit(), r.toString());
        assertEquals("servers before the program made one: 0\npool bean registered: true\n", r.out());
        assertEquals(List.of(), r.err());
    }

    @Test
    void poolRouteAndBufferPoolBeansShowTheRoutedBuffers() throws Exception {
        Path c = config("pool.main.size=32m", "route.r.include=sample.observe", "route.r.pool=main");
        Result r = java(c, "sample.observe.ReadBeans", "10");
        assertEquals(0, r.exit(), r.toString());
        Map<String, String> v = new HashMap<>();
        for (String line : r.out().lines().toList()) {
            v.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
        }
        assertEquals("main", v.get("Pool.Name"));
        assertEquals("volatile", v.get("Pool.Kind"));
        assertEquals(String.valueOf(32L << 20), v.get("Pool.Size"));
        assertEquals(String.valueOf(10 * 65536), v.get("Pool.InUse"));
        assertEquals("10", v.get("Pool.Allocations"));
        assertEquals("0", v.get("Pool.Fallbacks"));
        assertEquals("true", v.get("Pool.Open"));
        assertEquals("r", v.get("Route.Name"));
        assertEquals("main", v.get("Route.Pool"));
        assertEquals("sample.observe", v.get("Route.Include"));
        assertEquals("10", v.get("Route.Allocations"));
        assertEquals(String.valueOf(10 * 65536), v.get("Route.InUse"));
        assertEquals("0", v.get("Route.Fallbacks"));
        assertEquals("10", v.get("BufferPool.Count"));
        assertEquals(String.valueOf(10 * 65536), v.get("BufferPool.TotalCapacity"));
        assertEquals("jvmem.main", v.get("BufferPool.Name"));
        for (String key : List.of("Pool.Usable", "Pool.Peak", "Pool.Frees", "Pool.PurgedBytes", "Pool.NumaPages",
                "Pool.Path", "Route.Exclude", "Route.Calls", "Route.Bytes", "Route.FallbackBytes", "Route.Failures",
                "Route.BelowMinSize", "Route.Unrouted", "BufferPool.MemoryUsed")) {
            assertTrue(v.containsKey(key), key + " in " + v.keySet());
        }
    }

    @Test
    void aRecordingHoldsTheFallbackWithItsStackAndTheReclaimWait() throws Exception {
        Path jfr = dir.resolve("run.jfr");
        Path c = config("pool.main.size=14m", "route.r.include=sample.reclaim", "route.r.pool=main");
        Result r = java(c, "-XX:StartFlightRecording:filename=" + jfr + ",settings=default", "sample.reclaim.DropLoop",
                "keep", "400", "65536");
        assertEquals(0, r.exit(), r.toString());
        List<RecordedEvent> events = RecordingFile.readAllEvents(jfr);
        RecordedEvent fallback = first(events, "io.jvmem.Fallback");
        assertEquals("main", fallback.getString("pool"));
        assertEquals("r", fallback.getString("route"));
        assertEquals(65536L, fallback.getLong("bytes"));
        assertTrue(fallback.getString("site").startsWith("sample.reclaim.DropLoop.main(DropLoop.java:"), fallback.toString());
        boolean fromMain = false;
        for (RecordedFrame f : fallback.getStackTrace().getFrames()) {
            fromMain |= f.getMethod().getType().getName().equals("sample.reclaim.DropLoop");
        }
        assertTrue(fromMain, "the stack reaches the program: " + fallback);
        RecordedEvent wait = first(events, "io.jvmem.ReclaimWait");
        assertTrue(wait.getDuration().toNanos() > 0, wait.toString());
        assertEquals("main", wait.getString("pool"));
        assertEquals("main", first(events, "io.jvmem.PoolExhausted").getString("pool"));
    }

    @Test
    void leaksOfUnsafeAndLibcMemoryAreReportedBySiteWithCountBytesAndAge() throws Exception {
        Path report = dir.resolve("report.json");
        Path c = config("pool.main.size=32m", "route.r.include=sample.observe", "route.r.pool=main",
                "route.r.calls=allocateMemory,downcall,arena", "report=" + report, "leak-detection=sites");
        Result r = java(c, "sample.observe.Leaky", "300");
        assertEquals(0, r.exit(), r.toString());
        Map<String, Map<?, ?>> sites = leakSites(report);
        assertEquals(4, sites.size(), sites.toString());
        Map<?, ?> small = sites.get("sample.observe.Leaky.small(Leaky.java:30)");
        assertEquals(3L, small.get("count"));
        assertEquals(3000L, small.get("bytes"));
        assertEquals("allocateMemory", small.get("call"));
        assertTrue((Long) small.get("oldestAgeMillis") >= 300, small.toString());
        Map<?, ?> large = sites.get("sample.observe.Leaky.large(Leaky.java:34)");
        assertEquals(2L, large.get("count"));
        assertEquals(10000L, large.get("bytes"));
        Map<?, ?> libc = sites.entrySet().stream().filter(e -> e.getKey().startsWith("sample.observe.Leaky.libc(Leaky.java:"))
                .findFirst().orElseThrow().getValue();
        assertEquals("downcall", libc.get("call"));
        assertEquals(1L, libc.get("count"));
        assertEquals(777L, libc.get("bytes"));
        Map<?, ?> global = sites.get("sample.observe.Leaky.global(Leaky.java:" + GLOBAL_LINE + ")");
        assertEquals("arena", global.get("call"), sites.toString());
        assertEquals(1L, global.get("count"));
        assertEquals(300L, global.get("bytes"));
        List<String> leakLines = r.err().stream().filter(l -> l.startsWith("jvmem: leak: ")).toList();
        assertEquals(1, leakLines.size(), r.err().toString());
        assertTrue(leakLines.get(0).matches("\\Qjvmem: leak: 7 blocks (\\E[0-9.]+ KiB\\Q) of Unsafe, libc or global-arena memory "
                + "still live at exit at 4 sites; most at sample.observe.Leaky.large(Leaky.java:34): 2 (\\E.*"), leakLines.get(0));
        java.util.regex.Matcher oldest = java.util.regex.Pattern.compile("oldest (\\d+) ms").matcher(leakLines.get(0));
        assertTrue(oldest.find(), leakLines.get(0));
        assertEquals(large.get("oldestAgeMillis"), Long.parseLong(oldest.group(1)), "the exit line's age is the report's");
    }

    @Test
    void withStacksASampleOfAllocationStacksIsKept() throws Exception {
        Path report = dir.resolve("report.json");
        Path c = config("pool.main.size=32m", "route.r.include=sample.observe", "route.r.pool=main",
                "route.r.calls=allocateMemory", "report=" + report, "leak-detection=stacks", "log=quiet");
        Result r = java(c, "sample.observe.Leaky", "0");
        assertEquals(0, r.exit(), r.toString());
        assertEquals(List.of(), r.err(), "log=quiet says nothing");
        Map<?, ?> small = leakSites(report).get("sample.observe.Leaky.small(Leaky.java:30)");
        List<?> stacks = (List<?>) small.get("stacks");
        assertTrue(stacks.size() >= 1, small.toString());
        List<?> first = (List<?>) stacks.get(0);
        assertTrue(first.get(0).toString().startsWith("sample.observe.Leaky.small(Leaky.java:30)"), first.toString());
        assertTrue(first.get(1).toString().startsWith("sample.observe.Leaky.main(Leaky.java:"), first.toString());
    }

    @Test
    void withLeakDetectionOffTheReportSaysSo() throws Exception {
        Path report = dir.resolve("report.json");
        Path c = config("pool.main.size=32m", "route.r.include=sample.observe", "route.r.pool=main", "report=" + report);
        Result r = java(c, "sample.observe.Leaky", "0");
        assertEquals(0, r.exit(), r.toString());
        Map<?, ?> leaks = (Map<?, ?>) ((Map<?, ?>) Json.parse(Files.readString(report))).get("leaks");
        assertEquals("off", leaks.get("detection"));
        assertEquals(List.of(), leaks.get("sites"));
        assertTrue(r.err().stream().noneMatch(l -> l.contains("leak")), r.err().toString());
    }

    /** The line of {@code Arena.global().allocate} in sample.observe.Leaky. */
    private static final int GLOBAL_LINE = 69;

    private static Map<String, Map<?, ?>> leakSites(Path report) throws IOException {
        Map<?, ?> leaks = (Map<?, ?>) ((Map<?, ?>) Json.parse(Files.readString(report))).get("leaks");
        Map<String, Map<?, ?>> out = new HashMap<>();
        for (Object o : (List<?>) leaks.get("sites")) {
            Map<?, ?> m = (Map<?, ?>) o;
            out.put((String) m.get("site"), m);
        }
        return out;
    }

    private static RecordedEvent first(List<RecordedEvent> events, String name) {
        return events.stream().filter(e -> e.getEventType().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " among " + events.stream()
                        .map(e -> e.getEventType().getName()).distinct().toList()));
    }
}
