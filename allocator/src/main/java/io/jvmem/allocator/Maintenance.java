package io.jvmem.allocator;

import java.lang.ref.WeakReference;

/**
 * The pool's background duty, one daemon thread per pool: return pages that stayed free for the decay time to the
 * file system, and retire the caches of threads that have ended (a thread has no exit hook in Java). It holds the
 * allocator weakly, so an abandoned pool can still be collected.
 */
final class Maintenance implements Runnable {
    private final WeakReference<Allocator> heap;
    private final long decayMillis;
    private final long tickMillis;
    private final Thread thread;
    private volatile boolean stopped;

    Maintenance(Allocator heap, long decayMillis) {
        this.heap = new WeakReference<>(heap);
        this.decayMillis = decayMillis;
        this.tickMillis = decayMillis < 0 ? 1000 : Math.max(50, Math.min(1000, decayMillis / 2));
        this.thread = Thread.ofPlatform().daemon().name("jvmem-maintenance-" + heap.name).unstarted(this);
        this.thread.start();
    }

    @Override
    public void run() {
        int decayEpochs = decayMillis < 0 ? -1 : (int) Math.min(0xfff0, (decayMillis + 99) / 100);
        while (!stopped) {
            try {
                Thread.sleep(tickMillis);
            } catch (InterruptedException e) {
                return;
            }
            Allocator a = heap.get();
            if (a == null || a.isClosed()) {
                return;
            }
            try {
                a.caches.drainDeadThreads();
                if (decayEpochs >= 0) {
                    Object e = PoolEvents.beginPurge();
                    long n = a.pages.purge(decayEpochs);
                    PoolEvents.endPurge(e, a.name, n << SizeClasses.LG_PAGE);
                }
            } catch (RuntimeException e) {
                // A damaged pool is reported by the operations that use it; maintenance must not die noisily.
                Errors.set(e instanceof PoolException pe ? pe.reason() : PoolErrorReason.CORRUPT,
                        "maintenance: " + e.getMessage());
            }
            a = null;
        }
    }

    void stop() {
        stopped = true;
        thread.interrupt();
        if (Thread.currentThread() != thread) {
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
