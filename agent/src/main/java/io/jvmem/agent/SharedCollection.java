package io.jvmem.agent;

/**
 * A garbage collection shared by the threads that wait for pool memory: a thread asks for a collection that starts
 * after a moment of its own (its ticket, taken when its request failed) and joins one already started since then, or
 * one queued behind a collection that started before, instead of starting its own. So forty threads short of memory at
 * once cause one or two collections, not forty. Collections run one at a time. Thread-safe.
 */
final class SharedCollection {
    private final Runnable gc;
    /** Collections started and finished; they run one at a time, so the n-th to start is the n-th to finish. */
    private long started;
    private long finished;

    /** @param gc what one collection is ({@code System.gc()} in the agent) */
    SharedCollection(Runnable gc) {
        this.gc = gc;
    }

    /** Collections with {@code System.gc()}. */
    static SharedCollection ofSystemGc() {
        return new SharedCollection(new Runnable() { // not a lambda: no bootstrap method on this path
            @Override
            public void run() {
                System.gc();
            }
        });
    }

    /** The current moment, for {@link #collectAfter}: a collection numbered above it starts after this call. */
    synchronized long ticket() {
        return started;
    }

    /**
     * Returns once a collection that started after {@code ticket} was taken has finished: joins one under way or
     * runs one itself.
     *
     * @throws InterruptedException if interrupted while waiting for another thread's collection (this thread's own
     *                              collection is never interrupted)
     */
    void collectAfter(long ticket) throws InterruptedException {
        synchronized (this) {
            while (true) {
                if (started > ticket) {
                    while (finished <= ticket) {
                        wait(); // collection number ticket + 1 started after the ticket: it serves this thread
                    }
                    return;
                }
                if (started == finished) {
                    started++;
                    break;
                }
                wait(); // the one under way started before the ticket; the next one will do
            }
        }
        try {
            gc.run();
        } finally {
            synchronized (this) {
                finished++;
                notifyAll();
            }
        }
    }

    /** Collections run so far (for tests and the log). */
    synchronized long collections() {
        return finished;
    }
}
