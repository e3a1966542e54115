package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@org.junit.jupiter.api.Tag("unit")
class SharedCollectionTest {
    @Test
    @Timeout(30)
    void threadsThatFailedTogetherShareOneCollection() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        SharedCollection c = new SharedCollection(() -> {
            runs.incrementAndGet();
            inside.countDown();
            await(release);
        });
        long ticket = c.ticket();
        Thread[] ts = new Thread[16];
        for (int i = 0; i < ts.length; i++) {
            ts[i] = Thread.ofPlatform().start(() -> {
                try {
                    c.collectAfter(ticket);
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
        }
        inside.await();
        Thread.sleep(50); // the other fifteen reach the wait
        release.countDown();
        for (Thread t : ts) {
            t.join();
        }
        assertEquals(1, runs.get());
        assertEquals(1, c.collections());
    }

    @Test
    @Timeout(30)
    void aCollectionThatStartedBeforeTheTicketIsFollowedByANewOne() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        SharedCollection c = new SharedCollection(() -> {
            if (runs.incrementAndGet() == 1) {
                inside.countDown();
                await(release);
            }
        });
        Thread first = Thread.ofPlatform().start(() -> {
            try {
                c.collectAfter(c.ticket());
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        inside.await();
        long later = c.ticket(); // taken while the first collection runs: it cannot serve this ticket
        Thread second = Thread.ofPlatform().start(() -> {
            try {
                c.collectAfter(later);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        Thread.sleep(50);
        assertEquals(1, runs.get(), "collections run one at a time");
        release.countDown();
        first.join();
        second.join();
        assertEquals(2, runs.get());
    }

    @Test
    @Timeout(30)
    void aTicketAlreadyServedStartsNoCollection() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        SharedCollection c = new SharedCollection(runs::incrementAndGet);
        long ticket = c.ticket();
        c.collectAfter(ticket);
        c.collectAfter(ticket);
        assertEquals(1, runs.get());
        c.collectAfter(c.ticket());
        assertEquals(2, runs.get());
    }

    private static void await(CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
