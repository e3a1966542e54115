package io.jvmem.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvmem.allocator.InvalidFreeException;
import io.jvmem.allocator.MemoryPool;
import io.jvmem.allocator.PoolCheck;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import sample.routed.Buffers;
import sample.unrouted.Frees;
import sun.misc.Unsafe;

/**
 * The buffer contract of redirected allocations, in a JVM running the real agent jar (failsafe adds
 * {@code -javaagent:target/jvmem-agent.jar=src/test/resources/agent-it.properties}).
 */
@org.junit.jupiter.api.Tag("integration")
class BufferContractIT {
    private static final Unsafe U = TheUnsafe.U;

    private static MemoryPool pool(String name) {
        return Jvmem.pool(name);
    }

    private static long address(ByteBuffer b) {
        return MemorySegment.ofBuffer(b).address();
    }

    private static boolean inPool(String pool, ByteBuffer b) {
        return pool(pool).contains(address(b));
    }

    private static void collect() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(30);
        }
    }

    @Test
    void agentIsRunning() {
        assertTrue(Jvmem.isActive());
    }

    @Test
    void theAgentOpensJavaNioToNoApplicationCode() {
        Module base = ByteBuffer.class.getModule();
        assertFalse(base.isOpen("java.nio", BufferContractIT.class.getModule()), "java.nio open to the class path");
        assertFalse(base.isOpen("java.nio", Jvmem.class.getModule()), "java.nio open to the agent's classes");
        assertThrows(RuntimeException.class, () -> Class.forName("java.nio.DirectByteBuffer")
                .getDeclaredConstructor(long.class, long.class).setAccessible(true));
    }

    @Test
    void applicationCodeCannotReplaceTheBridgesHooks() throws Exception {
        Class<?> bridge = Class.forName("java.nio.JvmemBridge");
        assertThrows(NoSuchFieldException.class, () -> bridge.getField("h"), "the hooks field is not public");
        java.lang.reflect.Method connect = bridge.getMethod("connect", Class.forName("java.nio.JvmemHooks"), boolean.class);
        java.lang.reflect.InvocationTargetException e = assertThrows(java.lang.reflect.InvocationTargetException.class,
                () -> connect.invoke(null, null, true));
        assertTrue(e.getCause() instanceof IllegalStateException, e.getCause().toString());
        assertTrue(inPool("it", Buffers.allocate(64)), "the agent's hooks still serve");
    }

    @Test
    void redirectedBufferIsDirectZeroedAndShapedLikeTheJdks() {
        for (int n : new int[] {0, 1, 64, 4096, 65536, 1 << 20}) {
            ByteBuffer b = Buffers.allocate(n);
            ByteBuffer jdk = ByteBuffer.allocateDirect(n);
            assertTrue(inPool("it", b), "in the pool: " + n);
            assertFalse(pool("it").contains(address(jdk)));
            assertTrue(b.isDirect());
            assertEquals(jdk.capacity(), b.capacity());
            assertEquals(jdk.position(), b.position());
            assertEquals(jdk.limit(), b.limit());
            assertEquals(jdk.order(), b.order());
            assertEquals(ByteOrder.BIG_ENDIAN, b.order());
            assertEquals(jdk.isReadOnly(), b.isReadOnly());
            assertEquals(jdk.hasArray(), b.hasArray());
            for (int i = 0; i < n; i++) {
                if (b.get(i) != 0) {
                    throw new AssertionError("byte " + i + " of a " + n + "-byte buffer is not zero");
                }
            }
            Buffers.clean(U, b);
        }
    }

    @Test
    void reusedMemoryIsZeroedAgain() {
        for (int round = 0; round < 50; round++) {
            ByteBuffer b = Buffers.allocate(4096);
            for (int i = 0; i < 4096; i++) {
                assertEquals(0, b.get(i));
            }
            while (b.hasRemaining()) {
                b.put((byte) 0x5c);
            }
            Buffers.clean(U, b);
        }
    }

    @Test
    void negativeCapacityThrowsTheJdksException() {
        IllegalArgumentException jdk = assertThrows(IllegalArgumentException.class, () -> ByteBuffer.allocateDirect(-1));
        IllegalArgumentException ours = assertThrows(IllegalArgumentException.class, () -> Buffers.allocate(-1));
        assertEquals(jdk.getMessage(), ours.getMessage());
    }

    @Test
    void everyCallShapeIsRedirected() {
        assertTrue(inPool("it", Buffers.STATIC), "static initializer");
        assertTrue(inPool("it", new Buffers(100).fromConstructor), "constructor");
        assertTrue(inPool("it", Buffers.methodRef().apply(100)), "method reference");
        assertTrue(inPool("it", Buffers.lambda(100).get()), "lambda");
        long a = Buffers.allocateMemoryRef(U).applyAsLong(100);
        assertTrue(pool("it").contains(a), "bound Unsafe method reference");
        Frees.free(U, a);
    }

    @Test
    void invokeCleanerReturnsTheBlockAtOnce() {
        MemoryPool p = pool("it");
        ByteBuffer b = Buffers.allocate(4 << 20);
        long before = p.stats().allocated();
        long frees = p.stats().frees();
        Buffers.clean(U, b);
        assertEquals(before - (4 << 20), p.stats().allocated());
        assertEquals(frees + 1, p.stats().frees());
    }

    @Test
    void invokeCleanerFromUnrewrittenCodeAlsoReturnsTheBlock() {
        MemoryPool p = pool("it");
        ByteBuffer b = Buffers.allocate(4 << 20);
        long before = p.stats().allocated();
        U.invokeCleaner(b); // this test class is not rewritten: the JDK's own cleaner runs our release
        assertEquals(before - (4 << 20), p.stats().allocated());
    }

    @Test
    void aBlockIsNeverFreedTwice() throws Exception {
        MemoryPool p = pool("it");
        ByteBuffer b = Buffers.allocate(8192);
        ByteBuffer dup = b.duplicate();
        long errors = InAgent.releaseErrors();
        Buffers.clean(U, b);
        Buffers.clean(U, b);
        ByteBuffer d = dup;
        assertThrows(IllegalArgumentException.class, () -> U.invokeCleaner(d), "a duplicate cannot be cleaned");
        b = null;
        dup = null;
        collect();
        assertEquals(errors, InAgent.releaseErrors(), "a cleaner found its block already freed");
        assertEquals(PoolCheck.Status.CONSISTENT, p.check().status());
    }

    @Test
    void slicesAndViewsOutliveTheirParentAcrossSeveralCollections() throws Exception {
        ByteBuffer parent = Buffers.allocate(1 << 16);
        for (int i = 0; i < parent.capacity(); i++) {
            parent.put(i, (byte) (i * 31));
        }
        ByteBuffer slice = parent.slice(1000, 5000);
        LongBuffer view = parent.asLongBuffer();
        long first = view.get(0);
        parent = null;
        List<ByteBuffer> others = new ArrayList<>();
        for (int round = 0; round < 5; round++) {
            collect();
            for (int k = 0; k < 20; k++) { // would reuse the block if it had been released
                ByteBuffer o = Buffers.allocate(1 << 16);
                while (o.hasRemaining()) {
                    o.put((byte) 0x77);
                }
                others.add(o);
            }
            for (int i = 0; i < slice.capacity(); i++) {
                assertEquals((byte) ((i + 1000) * 31), slice.get(i), "slice byte " + i + " after collection " + round);
            }
            assertEquals(first, view.get(0));
            others.forEach(o -> Buffers.clean(U, o));
            others.clear();
        }
    }

    @Test
    void droppedBuffersAreReclaimedSoFiftyTimesThePoolSizeFitsWithOnExhaustedFail() {
        MemoryPool p = pool("it");
        long total = 50 * p.size();
        long done = 0;
        int[] sizes = {4096, 65536, 1 << 20, 100, 300_000};
        for (int i = 0; done < total; i++) {
            ByteBuffer b = Buffers.allocate(sizes[i % sizes.length]);
            b.put(0, (byte) 1);
            done += b.capacity();
        }
        assertTrue(done >= total);
    }

    @Test
    void unsafeAllocateMemoryComesFromThePoolAndIsFreedFromAnyClass() {
        MemoryPool p = pool("it");
        long a = Buffers.allocateMemory(U, 1000);
        assertTrue(p.contains(a));
        U.putLong(a, 0x1122334455667788L);
        long b = Frees.reallocate(U, a, 100_000);
        assertTrue(p.contains(b));
        assertEquals(0x1122334455667788L, U.getLong(b));
        long c = Buffers.reallocateMemory(U, b, 10);
        assertEquals(0x1122334455667788L, U.getLong(c));
        long frees = p.stats().frees();
        Frees.free(U, c);
        assertEquals(frees + 1, p.stats().frees());
    }

    @Test
    void reallocateMemoryToZeroFreesAndFromZeroAllocates() {
        MemoryPool p = pool("it");
        long a = Buffers.reallocateMemory(U, 0, 512);
        assertTrue(p.contains(a));
        assertEquals(0, Frees.reallocate(U, a, 0));
        assertThrows(InvalidFreeException.class, () -> Frees.free(U, a), "already freed");
    }

    @Test
    void unroutedAllocationsStayWithTheJdk() {
        long a = Frees.allocateMemory(U, 1000);
        assertFalse(pool("it").contains(a));
        Frees.free(U, a);
        ByteBuffer b = Frees.allocate(100);
        assertFalse(pool("it").contains(address(b)));
    }

    @Test
    void doubleFreeOfAPoolAddressIsATypedExceptionAndThePoolStaysIntact() {
        long a = Buffers.allocateMemory(U, 64);
        Frees.free(U, a);
        assertThrows(InvalidFreeException.class, () -> Frees.free(U, a));
        assertThrows(InvalidFreeException.class, () -> Frees.free(U, a + 8));
        assertEquals(PoolCheck.Status.CONSISTENT, pool("it").check().status());
    }

    @Test
    void requestsBelowMinSizeStayWithTheJdk() {
        assertFalse(inPool("it", sample.minsize.Alloc.allocate(100)));
        assertTrue(inPool("it", sample.minsize.Alloc.allocate(4096)));
    }

    @Test
    void fullPoolFallsBackToTheJdkWithFallback() {
        List<ByteBuffer> live = new ArrayList<>();
        int inPool = 0;
        for (int i = 0; i < 24; i++) {
            ByteBuffer b = sample.fallback.Alloc.allocate(1 << 20);
            assertTrue(b.isDirect());
            assertEquals(0, b.get(b.capacity() - 1));
            inPool += inPool("small", b) ? 1 : 0;
            live.add(b);
        }
        assertTrue(inPool > 5 && inPool < 24, "some in the pool, the rest from the JDK: " + inPool);
        live.forEach(b -> U.invokeCleaner(b));
    }

    @Test
    void fullPoolThrowsOutOfMemoryErrorNamingPoolSizeAndUseWithFail() {
        List<ByteBuffer> live = new ArrayList<>();
        OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> {
            for (int i = 0; i < 24; i++) {
                live.add(sample.failing.Alloc.allocate(1 << 20));
            }
        });
        assertTrue(e.getMessage().contains("pool tiny is exhausted"), e.getMessage());
        assertTrue(e.getMessage().contains("request of 1048576 bytes"), e.getMessage());
        assertTrue(e.getMessage().contains("of " + pool("tiny").size() + " bytes in use"), e.getMessage());
        live.forEach(b -> U.invokeCleaner(b));
        assertTrue(inPool("tiny", sample.failing.Alloc.allocate(1 << 20)), "serves again once space is back");
    }

    @Test
    void buffersWorkAsByteBuffers() {
        ByteBuffer b = Buffers.allocate(64);
        b.putLong(42L).putInt(7).flip();
        assertEquals(42L, b.getLong());
        assertEquals(7, b.getInt());
        byte[] bytes = new byte[5];
        ByteBuffer c = Buffers.allocate(5).put(new byte[] {1, 2, 3, 4, 5}).flip();
        c.get(bytes);
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5}, bytes);
        assertTrue(c.asReadOnlyBuffer().isDirect());
    }

    @Test
    void classesOfAnyClassLoaderAreRedirected() throws Exception {
        java.net.URL classes = Buffers.class.getProtectionDomain().getCodeSource().getLocation();
        try (java.net.URLClassLoader isolated = new java.net.URLClassLoader(new java.net.URL[] {classes},
                ClassLoader.getPlatformClassLoader())) {
            Class<?> c = isolated.loadClass("sample.routed.Buffers");
            assertTrue(c != Buffers.class, "a second copy of the class");
            ByteBuffer b = (ByteBuffer) c.getMethod("allocate", int.class).invoke(null, 4096);
            assertTrue(inPool("it", b));
            U.invokeCleaner(b);
        }
    }

    @Test
    void threadsAllocatingAndReleasingConcurrentlyKeepEveryByteAndThePoolConsistent() throws Exception {
        int threads = 4;
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.ConcurrentLinkedQueue<ByteBuffer> handoff = new java.util.concurrent.ConcurrentLinkedQueue<>();
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts[t] = new Thread(() -> {
                try {
                    java.util.Random r = new java.util.Random(id);
                    for (int i = 0; i < 20_000; i++) {
                        int n = 1 + r.nextInt(i % 100 == 0 ? 200_000 : 5000);
                        ByteBuffer b = (i % 3 == 0) ? Buffers.methodRef().apply(n) : Buffers.allocate(n);
                        byte v = (byte) (id * 31 + i);
                        b.put(0, v).put(n - 1, v);
                        switch (i % 4) {
                            case 0 -> Buffers.clean(U, b);          // explicit release by the allocating thread
                            case 1 -> handoff.add(b);               // released by another thread
                            default -> { }                          // dropped: released by the garbage collector
                        }
                        ByteBuffer other = handoff.poll();
                        if (other != null) {
                            if (other.get(0) != other.get(other.capacity() - 1)) {
                                throw new AssertionError("a buffer's bytes changed while it was live");
                            }
                            Buffers.clean(U, other);
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            ts[t].start();
        }
        for (Thread t : ts) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        handoff.forEach(b -> Buffers.clean(U, b));
        collect();
        assertEquals(PoolCheck.Status.CONSISTENT, pool("it").check().status());
        assertEquals(0, InAgent.releaseErrors());
    }
}
