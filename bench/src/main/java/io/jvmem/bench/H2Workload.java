package io.jvmem.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Locale;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;

/**
 * End-to-end workload: H2 with its nioMemFS file system (the database file lives in direct ByteBuffers), a table of
 * {@code rows} rows, then a mix of point reads (80%), updates (10%) and 100-row range aggregates (10%) from one
 * thread; the latency of each statement goes into an HdrHistogram. bench/run runs it without the agent ("jdk") and
 * with the agent routing {@code org.h2} to a pool ("pool"), alternating, as the Netty echo.
 *
 * <p>Usage: {@code H2Workload <variant> <out.json> [seconds] [warmup] [rows]}
 */
public final class H2Workload {
    private H2Workload() {
    }

    public static void main(String[] args) throws Exception {
        String variant = args[0];
        Path out = Path.of(args[1]);
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 20;
        double warmup = args.length > 3 ? Double.parseDouble(args[3]) : 5;
        int rows = args.length > 4 ? Integer.parseInt(args[4]) : 100_000;
        int payload = 200;
        SplittableRandom r = new SplittableRandom(42);
        try (Connection c = DriverManager.getConnection("jdbc:h2:nioMemFS:bench-" + ProcessHandle.current().pid())) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE t(id INT PRIMARY KEY, grp INT, name VARCHAR(40), payload VARBINARY(" + payload + "))");
            }
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO t VALUES (?, ?, ?, ?)")) {
                for (int i = 0; i < rows; i++) {
                    byte[] p = new byte[payload];
                    r.nextBytes(p);
                    ins.setInt(1, i);
                    ins.setInt(2, i % 97);
                    ins.setString(3, "row-" + i);
                    ins.setBytes(4, p);
                    ins.addBatch();
                    if (i % 1000 == 999) {
                        ins.executeBatch();
                    }
                }
                ins.executeBatch();
            }
            if (variant.equals("pool")) {
                checkRouted();
            }
            Histogram h = new Histogram(3_600_000_000L, 3);
            try (PreparedStatement get = c.prepareStatement("SELECT name, payload FROM t WHERE id = ?");
                 PreparedStatement upd = c.prepareStatement("UPDATE t SET payload = ? WHERE id = ?");
                 PreparedStatement agg = c.prepareStatement("SELECT COUNT(*), SUM(grp) FROM t WHERE id BETWEEN ? AND ?")) {
                long warmEnd = System.nanoTime() + (long) (warmup * 1e9);
                long end = warmEnd + (long) (seconds * 1e9);
                boolean measuring = false;
                long start = 0;
                byte[] p = new byte[payload];
                long checksum = 0;
                while (true) {
                    long t0 = System.nanoTime();
                    if (!measuring && t0 >= warmEnd) {
                        measuring = true;
                        h.reset();
                        start = t0;
                    }
                    if (t0 >= end) {
                        break;
                    }
                    int op = r.nextInt(10);
                    int id = r.nextInt(rows);
                    if (op < 8) {
                        get.setInt(1, id);
                        try (ResultSet rs = get.executeQuery()) {
                            if (!rs.next()) {
                                throw new IllegalStateException("row " + id + " missing");
                            }
                            checksum += rs.getBytes(2)[0];
                        }
                    } else if (op == 8) {
                        r.nextBytes(p);
                        upd.setBytes(1, p);
                        upd.setInt(2, id);
                        if (upd.executeUpdate() != 1) {
                            throw new IllegalStateException("update of " + id + " failed");
                        }
                    } else {
                        int from = Math.min(id, rows - 100);
                        agg.setInt(1, from);
                        agg.setInt(2, from + 99);
                        try (ResultSet rs = agg.executeQuery()) {
                            rs.next();
                            if (rs.getLong(1) != 100) {
                                throw new IllegalStateException("range of " + from + " has " + rs.getLong(1) + " rows");
                            }
                        }
                    }
                    h.recordValue(Math.min(System.nanoTime() - t0, h.getHighestTrackableValue()));
                }
                double elapsed = (System.nanoTime() - start) / 1e9;
                String json = String.format(Locale.ROOT,
                        "{\"variant\": \"%s\", \"connections\": 1, \"size\": %d, \"rows\": %d, \"seconds\": %.6f, \"roundTrips\": %d, "
                                + "\"throughput\": %.1f, \"p50us\": %.2f, \"p99us\": %.2f, \"p999us\": %.2f, \"maxus\": %.2f, "
                                + "\"checksum\": %d, \"histogram\": \"%s\"}%n",
                        variant, payload, rows, elapsed, h.getTotalCount(), h.getTotalCount() / elapsed,
                        h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0,
                        h.getValueAtPercentile(99.9) / 1000.0, h.getMaxValue() / 1000.0, checksum, NettyEcho.encode(h));
                Files.writeString(out, json);
                System.out.print(json.substring(0, json.indexOf(", \"histogram\"")) + "}\n");
            }
        }
    }

    /** With the agent, H2's nioMemFS buffers must come from the pool, or the comparison means nothing. */
    private static void checkRouted() throws Exception {
        Object pool = Class.forName("io.jvmem.agent.Jvmem").getMethod("pool", String.class).invoke(null, "main");
        long mallocs = ((io.jvmem.allocator.MemoryPool) pool).stats().mallocs();
        if (mallocs == 0) {
            throw new IllegalStateException("variant pool, but no allocation reached the pool: is org.h2 routed?");
        }
    }
}
