package io.jvmem.allocator;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Threads waiting for memory (M_WAITOK) on one pool, and the wake-up a free gives them. The free path pays one
 * volatile read ({@link #waiting()}) while nobody waits. A waiter registers before its attempt and records the
 * generation first, so a free between a failed attempt and the wait is never lost.
 */
final class Waiters {
    /** Written under this object's lock; read without it (a field, not an AtomicInteger: one load less per free). */
    private volatile int count;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private long generation; // guarded by lock

    boolean waiting() {
        return count != 0;
    }

    synchronized void enter() {
        count++;
    }

    synchronized void leave() {
        count--;
    }

    long generation() {
        lock.lock();
        try {
            return generation;
        } finally {
            lock.unlock();
        }
    }

    /** Memory came back: wake every waiter (each retries; those that still find none wait again). */
    void released() {
        lock.lock();
        try {
            generation++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until a release after {@code seen}, or {@code nanos} pass. Returns false when interrupted (the interrupt
     * status is set again).
     */
    boolean awaitRelease(long seen, long nanos) {
        lock.lock();
        try {
            while (generation == seen && nanos > 0) {
                nanos = changed.awaitNanos(nanos);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    static long toNanos(java.time.Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }
}
