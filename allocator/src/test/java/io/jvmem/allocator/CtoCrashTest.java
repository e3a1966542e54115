package io.jvmem.allocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Crash tests in forked JVMs: a child opens a pool, writes, and is killed with SIGKILL at random points, some during
 * close. Every reopen after a kill that came before close completed refuses as not closed cleanly (or, for a kill
 * during create, as not a pool yet: no magic), then is recreated on request; every clean close reopens with all data
 * verified by checksum. No other refusal is legitimate.
 */
@org.junit.jupiter.api.Tag("unit")
class CtoCrashTest {
    private static final int ROUNDS = 75; // two kill attempts in three rounds
    private static final int KILLS = 50; // more rounds while a fast machine lets children finish before their kill

    private record Child(Process process, List<String> lines) {
        boolean said(String word) {
            return lines.stream().anyMatch(l -> l.startsWith(word));
        }
    }

    private static Child start(Path pool, long generation) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Xshare:auto", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), CtoCrashChild.class.getName(), pool.toString(),
                Long.toString(generation)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (Exception ignored) {
                // the child was killed
            }
        });
        reader.setDaemon(true);
        reader.start();
        return new Child(p, lines);
    }

    @Test
    @Timeout(600)
    void killedChildrenLeaveRefusingPoolsAndCleanClosesKeepEveryByte() throws Exception {
        Path dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "jvmem-crash");
        Path pool = dir.resolve("pool");
        Random r = new Random(2026);
        int kills = 0;
        int killsDuringClose = 0;
        int refusals = 0;
        int verified = 0;
        long expected = 0; // generation that must be found after a clean close
        for (int round = 1; round <= ROUNDS || (kills < KILLS && round <= 3 * ROUNDS); round++) {
            boolean existed = Files.exists(pool);
            Child child = start(pool, round);
            int mode = round % 3;
            if (mode == 0) {
                assertTrue(child.process().waitFor(60, TimeUnit.SECONDS), "child hung");
                assertEquals(0, child.process().exitValue(), "clean run failed: " + child.lines());
            } else {
                if (mode == 1) {
                    Thread.sleep(r.nextInt(400));
                } else {
                    long deadline = System.nanoTime() + 30_000_000_000L;
                    while (!child.said("CLOSING") && child.process().isAlive() && System.nanoTime() < deadline) {
                        Thread.onSpinWait();
                    }
                    Thread.sleep(r.nextInt(15));
                }
                boolean killed = false;
                if (child.process().isAlive()) {
                    child.process().destroyForcibly(); // SIGKILL
                    killed = true;
                    kills++;
                    if (child.said("CLOSING") && !child.said("CLOSED")) {
                        killsDuringClose++;
                    }
                }
                assertTrue(child.process().waitFor(30, TimeUnit.SECONDS), "killed child hung");
                if (!killed) {
                    assertEquals(0, child.process().exitValue(), "round " + round + ": child failed: " + child.lines());
                }
            }
            Thread.sleep(20); // let the reader drain the last line
            assertTrue(!child.said("CORRUPT"), "the child found damaged data: " + child.lines());
            if (!Files.exists(pool)) {
                continue; // killed before it created the file
            }
            boolean closed = child.said("CLOSED");
            try (CtoPool p = CtoPool.open(pool, CtoCrashChild.LAYOUT)) {
                long found = CtoCrashChild.verify(p);
                assertTrue(found >= 0, "round " + round + ": data damaged after " + child.lines());
                if (closed) {
                    assertEquals(round, found, "round " + round + ": a clean close must keep this round's data");
                }
                if (found > 0) {
                    verified++;
                }
                expected = found;
            } catch (PoolException e) {
                // the only states a kill may leave: open (not closed cleanly), or a file whose creation was cut short
                boolean dirty = e.reason() == PoolErrorReason.NOT_CLOSED_CLEANLY;
                boolean unborn = e.reason() == PoolErrorReason.UNFORMATTED && !existed && !child.said("OPENED");
                if (!dirty && !unborn) {
                    fail("round " + round + ": unexpected refusal: " + e.getMessage());
                }
                assertTrue(!closed, "round " + round + ": a cleanly closed pool was refused");
                refusals++;
                CtoPool.openOrCreate(pool, CtoCrashChild.LAYOUT, 64L << 20, true, PoolOptions.DEFAULT).close();
                assertEquals(PoolCheck.Status.CONSISTENT, CtoPool.check(pool, CtoCrashChild.LAYOUT).status());
            }
        }
        System.out.printf("crash test: %d kills (%d during close), %d refusals, %d clean reopens verified, last generation %d%n",
                kills, killsDuringClose, refusals, verified, expected);
        assertTrue(kills >= KILLS, "kills " + kills);
        assertTrue(killsDuringClose >= 1, "no kill landed during close");
        assertTrue(refusals >= 1 && verified >= 1);
        Files.deleteIfExists(pool);
        Files.deleteIfExists(dir);
    }
}
