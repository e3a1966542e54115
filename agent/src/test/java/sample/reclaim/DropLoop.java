package sample.reclaim;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A program that knows nothing of jvmem: threads allocate direct buffers, touch them and drop them, so only the
 * garbage collector can give their memory back. Run under the agent (its package is routed) or under the JDK alone
 * with {@code -XX:MaxDirectMemorySize}. Prints one line, {@code allocations=<n> oom=<n>}; the first
 * OutOfMemoryError's message goes to stderr.
 *
 * <p>Usage: {@code DropLoop threads <threads> <seconds> <bytes>} (each thread loops for that long) or
 * {@code DropLoop loop <count> <bytes>} (one thread, that many buffers) or {@code DropLoop keep <count> <bytes>} (one
 * thread, that many buffers, all kept reachable until the end) or {@code DropLoop handoff <bytes> <millis>} (fills the
 * pool with buffers until an OutOfMemoryError, starts a thread that asks for one more, drops the others after that
 * many milliseconds without allocating again, and counts the waiting thread's result).
 */
public final class DropLoop {
    private static final AtomicLong ALLOCATIONS = new AtomicLong();
    private static final AtomicLong OOMS = new AtomicLong();

    private DropLoop() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args[0].equals("threads")) {
            int threads = Integer.parseInt(args[1]);
            long deadline = System.nanoTime() + Long.parseLong(args[2]) * 1_000_000_000L;
            int bytes = Integer.parseInt(args[3]);
            Thread[] ts = new Thread[threads];
            for (int i = 0; i < threads; i++) {
                ts[i] = new Thread(() -> {
                    while (System.nanoTime() - deadline < 0) {
                        once(bytes);
                    }
                }, "drop-" + i);
                ts[i].start();
            }
            for (Thread t : ts) {
                t.join();
            }
        } else if (args[0].equals("handoff")) {
            int bytes = Integer.parseInt(args[1]);
            java.util.List<ByteBuffer> held = new java.util.ArrayList<>();
            try {
                while (true) {
                    held.add(ByteBuffer.allocateDirect(bytes));
                }
            } catch (OutOfMemoryError full) {
                // the pool is full of reachable buffers
            }
            Thread waiter = new Thread(() -> once(bytes), "waiter");
            waiter.start();
            Thread.sleep(Long.parseLong(args[2]));
            held.clear(); // garbage now, and this thread allocates no more
            waiter.join();
        } else if (args[0].equals("keep")) {
            int count = Integer.parseInt(args[1]);
            int bytes = Integer.parseInt(args[2]);
            java.util.List<ByteBuffer> kept = new java.util.ArrayList<>();
            for (int i = 0; i < count; i++) {
                kept.add(ByteBuffer.allocateDirect(bytes));
                ALLOCATIONS.incrementAndGet();
            }
        } else {
            int count = Integer.parseInt(args[1]);
            int bytes = Integer.parseInt(args[2]);
            for (int i = 0; i < count; i++) {
                once(bytes);
            }
        }
        System.out.println("allocations=" + ALLOCATIONS.get() + " oom=" + OOMS.get());
    }

    private static void once(int bytes) {
        try {
            ByteBuffer b = ByteBuffer.allocateDirect(bytes);
            b.put(0, (byte) 1).put(bytes - 1, (byte) 1);
            ALLOCATIONS.incrementAndGet();
        } catch (OutOfMemoryError e) {
            if (OOMS.getAndIncrement() == 0) {
                System.err.println("first OutOfMemoryError: " + e.getMessage());
            }
        }
    }
}
