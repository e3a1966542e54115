package io.jvmem.bench;

import io.jvmem.allocator.Mbeans;
import io.jvmem.allocator.VolatilePool;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What watching a pool costs its malloc+free: {@code off} (Flight Recorder never started, the beans registered but
 * not read), {@code jfr} (a recording with the JDK's "default" settings, which enable jvmem's events, the throttled
 * allocation sample included), {@code jfrOthers} (the same recording with jvmem's events disabled: what recording
 * costs by itself), {@code jmx} (a thread reading every attribute of the pool's MXBean ten times a second,
 * as a dashboard scraping it would). ns per malloc+free pair; each mode in its own fork.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Benchmark)
public class ObservabilityBenchmark {
    @Param({"off", "jfrOthers", "jfr", "jmx"})
    public String mode;

    @Param({"64", "4096"})
    public long size;

    private VolatilePool pool;
    private Recording recording;
    private Thread scraper;

    @Setup(Level.Trial)
    public void create() throws Exception {
        Path dir = BenchDirs.tmpfsOrTemp();
        pool = VolatilePool.create("observed", dir, 256L << 20);
        if (mode.startsWith("jfr")) {
            recording = new Recording(Configuration.getConfiguration("default"));
            if (mode.equals("jfrOthers")) { // the recording's own cost, without jvmem's events
                for (String event : new String[] {"PoolCreated", "PoolOpened", "PoolClosed", "PoolExhausted", "Purge",
                        "InvalidFree", "AllocationSample"}) {
                    recording.disable("io.jvmem." + event);
                }
            }
            recording.start();
        } else if (mode.equals("jmx")) {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer(); // a JMX client makes it; jvmem never does
            if (!Mbeans.awaitIdle(30_000)) {
                throw new IllegalStateException("the pool's MXBean was not registered");
            }
            ObjectName name = new ObjectName("io.jvmem:type=Pool,name=observed");
            MBeanAttributeInfo[] attributes = server.getMBeanInfo(name).getAttributes();
            scraper = Thread.ofPlatform().daemon().start(() -> {
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        for (MBeanAttributeInfo a : attributes) {
                            server.getAttribute(name, a.getName());
                        }
                        Thread.sleep(100);
                    }
                } catch (InterruptedException e) {
                    // done
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        }
    }

    @TearDown(Level.Trial)
    public void delete() throws Exception {
        if (recording != null) {
            recording.close();
        }
        if (scraper != null) {
            scraper.interrupt();
            scraper.join();
        }
        pool.delete();
    }

    @Benchmark
    public long mallocFree() {
        long a = pool.malloc(size);
        pool.free(a);
        return a;
    }
}
