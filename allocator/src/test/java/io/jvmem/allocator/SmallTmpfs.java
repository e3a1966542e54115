package io.jvmem.allocator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Assumptions;

/**
 * A tmpfs of a few MiB mounted for one test (needs root, as sessions and CI have), so "the file system is full" is
 * real and no test depends on the machine's shared /dev/shm. Unmounted on close.
 */
final class SmallTmpfs implements AutoCloseable {
    final Path dir;

    private SmallTmpfs(Path dir) {
        this.dir = dir;
    }

    static SmallTmpfs mount(long bytes) throws IOException, InterruptedException {
        Path mnt = Files.createTempDirectory("jvmem-small-tmpfs");
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + bytes, "tmpfs", mnt.toString())
                .redirectErrorStream(true).start();
        boolean mounted = p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        if (!mounted) {
            Files.deleteIfExists(mnt);
        }
        Assumptions.assumeTrue(mounted, "cannot mount a small tmpfs here (needs root)");
        return new SmallTmpfs(mnt);
    }

    long free() throws IOException {
        return Files.getFileStore(dir).getUsableSpace();
    }

    /** Fills the file system with a file of zeros, up to {@code leave} bytes free (a few pages more or less). */
    Path fill(long leave) throws IOException {
        Path filler = dir.resolve("filler");
        long want = free() - leave;
        byte[] chunk = new byte[1 << 20];
        try (var out = Files.newOutputStream(filler)) {
            for (long done = 0; done < want; done += chunk.length) {
                out.write(chunk, 0, (int) Math.min(chunk.length, want - done));
            }
        } catch (IOException e) {
            if (leave > 0) {
                throw e;
            } // leave == 0: filled to ENOSPC, as asked
        }
        return filler;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        new ProcessBuilder("umount", dir.toString()).start().waitFor(10, TimeUnit.SECONDS);
        Files.deleteIfExists(dir);
    }

    /**
     * Runs {@code action} while another thread reads the file system's free space as fast as it can; returns the
     * least it saw. A reservation that fills the file system before it fails cannot hide from it.
     */
    long leastFreeDuring(Runnable action) throws Exception {
        AtomicLong least = new AtomicLong(free());
        Thread watcher = Thread.ofPlatform().daemon().start(() -> {
            try {
                var store = Files.getFileStore(dir);
                while (!Thread.currentThread().isInterrupted()) {
                    least.accumulateAndGet(store.getUsableSpace(), Math::min);
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            action.run();
        } finally {
            watcher.interrupt();
            watcher.join();
        }
        least.accumulateAndGet(free(), Math::min);
        return least.get();
    }
}
