package io.jvmem.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * An ordinary H2 database on the {@code nioMemFS} file system, which keeps the database file in direct
 * {@link java.nio.ByteBuffer}s. Creates a table, inserts rows with varied content drawn from a seeded PRNG,
 * runs aggregate and point queries, an update and a delete, and checks every result against values computed
 * here.
 *
 * <p>Arguments (optional): {@code rows} (default 20000), {@code seed} (default 7). Prints {@code H2 OK rows=...}
 * and exits 0, or prints {@code H2 FAIL ...} and exits 1.
 */
public final class H2Mem {
    static final int GROUPS = 37;

    public static void main(String[] args) {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 7L;
        ProgramExit.withCode("H2", () -> run(rows, seed));
    }

    /** One row's content; a pure function of (seed, id). */
    record Row(int id, int grp, String name, long amount, byte[] payload) {
        static Row of(long seed, int id) {
            SplittableRandom r = new SplittableRandom(seed * 1_000_003L + id);
            int grp = r.nextInt(GROUPS);
            int nameLen = 1 + r.nextInt(r.nextBoolean() ? 8 : 120);
            StringBuilder name = new StringBuilder(nameLen);
            for (int i = 0; i < nameLen; i++) {
                // mostly ASCII letters, sometimes non-ASCII (Greek, CJK) to exercise UTF-8 paths
                int k = r.nextInt(100);
                name.append(k < 90 ? (char) ('a' + r.nextInt(26)) : k < 97 ? (char) (0x3B1 + r.nextInt(24))
                        : (char) (0x4E00 + r.nextInt(500)));
            }
            long amount = r.nextLong(-1_000_000_000L, 1_000_000_000L);
            int payloadLen = r.nextInt(10) == 0 ? 0 : r.nextInt(r.nextBoolean() ? 64 : 2000);
            byte[] payload = new byte[payloadLen];
            r.nextBytes(payload);
            return new Row(id, grp, name.toString(), amount, payload);
        }
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("check failed: " + what);
        }
    }

    static int run(int rows, long seed) throws SQLException {
        String url = "jdbc:h2:nioMemFS:jvmem-it-" + seed + ";DB_CLOSE_DELAY=-1";
        long[] groupCount = new long[GROUPS];
        long[] groupSum = new long[GROUPS];
        long[] groupPayload = new long[GROUPS];
        long totalSum = 0;
        long totalPayload = 0;
        long totalNameChars = 0;
        String maxName = null;
        try (Connection c = DriverManager.getConnection(url, "sa", "")) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE item(id INT PRIMARY KEY, grp INT NOT NULL, name VARCHAR(200) NOT NULL,"
                        + " amount BIGINT NOT NULL, payload VARBINARY(4000) NOT NULL)");
            }
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO item VALUES (?, ?, ?, ?, ?)")) {
                for (int id = 0; id < rows; id++) {
                    Row row = Row.of(seed, id);
                    ps.setInt(1, row.id);
                    ps.setInt(2, row.grp);
                    ps.setString(3, row.name);
                    ps.setLong(4, row.amount);
                    ps.setBytes(5, row.payload);
                    ps.addBatch();
                    if (id % 1000 == 999) {
                        ps.executeBatch();
                        c.commit();
                    }
                    groupCount[row.grp]++;
                    groupSum[row.grp] += row.amount;
                    groupPayload[row.grp] += row.payload.length;
                    totalSum += row.amount;
                    totalPayload += row.payload.length;
                    totalNameChars += row.name.length();
                    if (maxName == null || row.name.compareTo(maxName) > 0) {
                        maxName = row.name;
                    }
                }
                ps.executeBatch();
                c.commit();
            }
            c.setAutoCommit(true);
            try (Statement s = c.createStatement()) {
                s.execute("CREATE INDEX item_grp ON item(grp)");
                s.execute("CHECKPOINT");
            }

            // Totals.
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT COUNT(*), SUM(amount), SUM(OCTET_LENGTH(payload)),"
                         + " SUM(CHAR_LENGTH(name)), MAX(name) FROM item")) {
                check(rs.next(), "totals row");
                check(rs.getLong(1) == rows, "count " + rs.getLong(1) + " != " + rows);
                check(rs.getLong(2) == totalSum, "sum(amount) " + rs.getLong(2) + " != " + totalSum);
                check(rs.getLong(3) == totalPayload, "sum(payload) " + rs.getLong(3) + " != " + totalPayload);
                check(rs.getLong(4) == totalNameChars, "sum(name) " + rs.getLong(4) + " != " + totalNameChars);
                check(rs.getString(5).equals(maxName), "max(name)");
            }

            // Per group, through the index.
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT grp, COUNT(*), SUM(amount), SUM(OCTET_LENGTH(payload))"
                         + " FROM item GROUP BY grp ORDER BY grp")) {
                int seen = 0;
                while (rs.next()) {
                    int g = rs.getInt(1);
                    check(rs.getLong(2) == groupCount[g], "count of group " + g);
                    check(rs.getLong(3) == groupSum[g], "sum of group " + g);
                    check(rs.getLong(4) == groupPayload[g], "payload of group " + g);
                    seen++;
                }
                int nonEmpty = (int) Arrays.stream(groupCount).filter(n -> n > 0).count();
                check(seen == nonEmpty, "groups " + seen + " != " + nonEmpty);
            }

            // Every row, byte for byte.
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT id, grp, name, amount, payload FROM item ORDER BY id")) {
                int id = 0;
                while (rs.next()) {
                    Row want = Row.of(seed, id);
                    check(rs.getInt(1) == id, "id " + rs.getInt(1) + " != " + id);
                    check(rs.getInt(2) == want.grp, "grp of " + id);
                    check(rs.getString(3).equals(want.name), "name of " + id);
                    check(rs.getLong(4) == want.amount, "amount of " + id);
                    check(Arrays.equals(rs.getBytes(5), want.payload), "payload of " + id);
                    id++;
                }
                check(id == rows, "scanned " + id + " rows");
            }

            // Update one group, delete another, re-check aggregates.
            int upd = 3;
            int del = 5;
            try (Statement s = c.createStatement()) {
                int n = s.executeUpdate("UPDATE item SET amount = amount + 1 WHERE grp = " + upd);
                check(n == groupCount[upd], "updated " + n);
                n = s.executeUpdate("DELETE FROM item WHERE grp = " + del);
                check(n == groupCount[del], "deleted " + n);
            }
            long wantSum = totalSum + groupCount[upd] - groupSum[del];
            long wantCount = rows - groupCount[del];
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT COUNT(*), SUM(amount) FROM item")) {
                check(rs.next(), "totals after update");
                check(rs.getLong(1) == wantCount, "count after delete");
                check(rs.getLong(2) == wantSum, "sum after update/delete");
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT name, payload FROM item WHERE id = ?")) {
                SplittableRandom pick = new SplittableRandom(seed);
                for (int i = 0; i < 500; i++) {
                    int id = pick.nextInt(rows);
                    Row want = Row.of(seed, id);
                    ps.setInt(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (want.grp == del) {
                            check(!rs.next(), "deleted row " + id + " still there");
                        } else {
                            check(rs.next(), "row " + id);
                            check(rs.getString(1).equals(want.name), "name of " + id);
                            check(Arrays.equals(rs.getBytes(2), want.payload), "payload of " + id);
                        }
                    }
                }
            }
            try (Statement s = c.createStatement()) {
                s.execute("SHUTDOWN");
            }
        }
        System.out.println("H2 OK rows=" + rows + " groups=" + GROUPS + " payloadBytes=" + totalPayload);
        return 0;
    }
}
