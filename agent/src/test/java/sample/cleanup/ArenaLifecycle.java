package sample.cleanup;

import io.jvmem.agent.Jvmem;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;

/**
 * Each rule of a routed segment's lifetime that depends on how its cleanup reaches the JDK, printed one per line:
 * confined and shared arenas give their blocks back at close, an automatic arena's come back once it is unreachable,
 * the global arena's never; allocating on a closed arena or on another thread's confined arena throws the JDK's
 * exception and keeps no block. Pool p must take this class's arena allocations.
 */
public final class ArenaLifecycle {
    private ArenaLifecycle() {
    }

    public static void main(String[] args) throws Exception {
        long before = inUse();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(100);
            print("confined from pool", inPool(s) && zeroed(s));
            print("confined in use", inUse() > before);
        }
        print("confined back at close", inUse() == before);
        try (Arena a = Arena.ofShared()) {
            MemorySegment s = CompletableFuture.supplyAsync(() -> a.allocate(4096, 64)).get();
            print("shared from pool on another thread", inPool(s) && zeroed(s));
        }
        print("shared back at close", inUse() == before);
        Arena closed = Arena.ofConfined();
        closed.close();
        print("closed arena throws", throwsOf(() -> closed.allocate(64), IllegalStateException.class));
        print("closed arena keeps no block", inUse() == before);
        try (Arena mine = Arena.ofConfined()) {
            boolean wrong = CompletableFuture.supplyAsync(() -> throwsOf(() -> mine.allocate(64), WrongThreadException.class)).get();
            print("another thread's confined arena throws", wrong);
        }
        print("another thread's arena keeps no block", inUse() == before);
        autoArena();
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (inUse() != before && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        print("auto back when unreachable", inUse() == before);
        MemorySegment g = Arena.global().allocate(256);
        print("global from pool", inPool(g));
        try (Arena a = Arena.ofConfined()) {
            a.allocate(64);
        }
        print("global never back", inUse() > before);
    }

    private static void autoArena() {
        MemorySegment s = Arena.ofAuto().allocate(1024);
        print("auto from pool", inPool(s) && zeroed(s));
        s.set(ValueLayout.JAVA_LONG, 0, 42);
    }

    private static boolean zeroed(MemorySegment s) {
        for (long i = 0; i < s.byteSize(); i++) {
            if (s.get(ValueLayout.JAVA_BYTE, i) != 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean throwsOf(Runnable r, Class<? extends Throwable> type) {
        try {
            r.run();
            return false;
        } catch (Throwable t) {
            return type.isInstance(t);
        }
    }

    private static boolean inPool(MemorySegment s) {
        return Jvmem.pool("p").contains(s.address());
    }

    private static long inUse() {
        return Jvmem.pool("p").stats().allocated();
    }

    private static void print(String rule, boolean holds) {
        System.out.println(rule + ": " + holds);
    }
}
