package io.jvmem.it;

import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Blocker;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An ordinary Jetty 12 HTTP/1.1 server and {@link HttpClient} over loopback, both with an
 * {@link ArrayByteBufferPool} and direct input/output buffers ({@code HttpConfiguration} and {@code HttpClient}
 * {@code setUse{Input,Output}DirectByteBuffers(true)}); the pools get their direct memory from
 * {@code ByteBuffer.allocateDirect} in {@code org.eclipse.jetty.util.BufferUtil}.
 *
 * <p>The server's handler reads the request body chunk by chunk (Jetty's pooled network buffers), checks every
 * byte against the pattern the request's {@code X-Seed} header names, and writes each chunk back as it came. The
 * client sends {@code requests} POSTs from 4 threads, bodies of 0 B..1 MiB (log-uniform; the first of each thread
 * exactly 1 MiB) drawn from the same pattern, and compares every byte of each echoed body.
 *
 * <p>Arguments (optional): {@code requests} (default 300), {@code seed} (default 3). Prints
 * {@code JETTY OK ...} and exits 0, or prints {@code JETTY FAIL ...} and exits 1.
 */
public final class JettyEcho {
    static final int MAX_BODY = 1 << 20;
    static final int CLIENT_THREADS = 4;
    static final String SEED_HEADER = "X-Seed";

    public static void main(String[] args) {
        int requests = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 3L;
        ProgramExit.withFailure("JETTY", () -> run(requests, seed));
    }

    /** Byte {@code i} of the body whose seed is {@code seed}. */
    static byte patternByte(long seed, long i) {
        long x = seed * 0x9E3779B97F4A7C15L + i * 0xBF58476D1CE4E5B9L;
        x ^= x >>> 31;
        x *= 0x94D049BB133111EBL;
        return (byte) (x ^ (x >>> 29));
    }

    static byte[] body(long seed, int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = patternByte(seed, i);
        }
        return b;
    }

    /** Body sizes: log-uniform in [0, 1 MiB]. */
    static int nextSize(SplittableRandom r) {
        int bits = r.nextInt(21);
        return Math.min(MAX_BODY, r.nextInt(1 << bits) + (bits == 0 ? 0 : 1));
    }

    /** Checks each body chunk against the pattern, then writes it back as it is. */
    static final class EchoHandler extends Handler.Abstract {
        final AtomicLong directChunks = new AtomicLong();
        final AtomicLong heapChunks = new AtomicLong();
        final AtomicLong bytes = new AtomicLong();
        final AtomicReference<String> mismatch = new AtomicReference<>();

        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            long seed = Long.parseLong(request.getHeaders().get(SEED_HEADER));
            long length = request.getLength();
            response.setStatus(200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, length);
            long pos = 0;
            while (true) {
                Content.Chunk chunk = request.read();
                if (chunk == null) {
                    try (Blocker.Runnable demand = Blocker.runnable()) {
                        request.demand(demand);
                        demand.block();
                    }
                    continue;
                }
                if (Content.Chunk.isFailure(chunk)) {
                    callback.failed(chunk.getFailure());
                    return true;
                }
                try {
                    ByteBuffer buf = chunk.getByteBuffer();
                    if (buf.hasRemaining()) {
                        (buf.isDirect() ? directChunks : heapChunks).incrementAndGet();
                    }
                    int start = buf.position();
                    int n = buf.remaining();
                    for (int i = 0; i < n; i++) {
                        byte got = buf.get(start + i);
                        if (got != patternByte(seed, pos + i)) {
                            mismatch.compareAndSet(null, "server: request seed " + seed + " byte " + (pos + i)
                                    + " is " + got + " expected " + patternByte(seed, pos + i));
                            break;
                        }
                    }
                    pos += n;
                    bytes.addAndGet(n);
                    try (Blocker.Callback written = Blocker.callback()) {
                        response.write(chunk.isLast(), buf, written);
                        written.block();
                    }
                    if (chunk.isLast()) {
                        break;
                    }
                } finally {
                    chunk.release();
                }
            }
            if (pos != length) {
                mismatch.compareAndSet(null, "server: request seed " + seed + " had " + pos + " bytes, Content-Length "
                        + length);
            }
            callback.succeeded();
            return true;
        }
    }

    static String run(int requests, long seed) throws Exception {
        // Direct buffers everywhere: the pools keep both kinds; which kind a connection asks for is set below.
        ArrayByteBufferPool serverPool = new ArrayByteBufferPool();
        ArrayByteBufferPool clientPool = new ArrayByteBufferPool();
        QueuedThreadPool serverThreads = new QueuedThreadPool(16, 4);
        serverThreads.setName("jetty-server");
        Server server = new Server(serverThreads, null, serverPool);
        HttpConfiguration http = new HttpConfiguration();
        http.setUseInputDirectByteBuffers(true);
        http.setUseOutputDirectByteBuffers(true);
        ServerConnector connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        EchoHandler handler = new EchoHandler();
        server.setHandler(handler);

        HttpClient client = new HttpClient();
        client.setByteBufferPool(clientPool);
        client.setUseInputDirectByteBuffers(true);
        client.setUseOutputDirectByteBuffers(true);
        client.setMaxConnectionsPerDestination(CLIENT_THREADS);
        QueuedThreadPool clientThreads = new QueuedThreadPool(16, 4);
        clientThreads.setName("jetty-client");
        client.setExecutor(clientThreads);

        ExecutorService senders = Executors.newFixedThreadPool(CLIENT_THREADS);
        server.start();
        try {
            client.start();
            String uri = "http://127.0.0.1:" + connector.getLocalPort() + "/echo";
            AtomicLong echoedBytes = new AtomicLong();
            List<Future<String>> results = new ArrayList<>();
            int perThread = (requests + CLIENT_THREADS - 1) / CLIENT_THREADS;
            for (int t = 0; t < CLIENT_THREADS; t++) {
                int thread = t;
                int count = Math.min(perThread, requests - t * perThread);
                results.add(senders.submit(() -> {
                    SplittableRandom sizes = new SplittableRandom(seed * 31 + thread);
                    for (int k = 0; k < count; k++) {
                        long bodySeed = seed * 1_000_003L + thread * 10_007L + k;
                        int size = k == 0 ? MAX_BODY : nextSize(sizes);
                        ContentResponse resp = client.newRequest(uri)
                                .method(HttpMethod.POST)
                                .headers(h -> h.put(SEED_HEADER, Long.toString(bodySeed)))
                                .body(new BytesRequestContent("application/octet-stream", body(bodySeed, size)))
                                .timeout(20, TimeUnit.SECONDS)
                                .send();
                        if (resp.getStatus() != 200) {
                            return "request " + thread + "/" + k + ": status " + resp.getStatus();
                        }
                        byte[] got = resp.getContent();
                        if (got.length != size) {
                            return "request " + thread + "/" + k + ": echoed " + got.length + " bytes of " + size;
                        }
                        for (int i = 0; i < size; i++) {
                            if (got[i] != patternByte(bodySeed, i)) {
                                return "request " + thread + "/" + k + " (size " + size + "): echoed byte " + i
                                        + " is " + got[i] + " expected " + patternByte(bodySeed, i);
                            }
                        }
                        echoedBytes.addAndGet(size);
                    }
                    return null;
                }));
            }
            for (Future<String> f : results) {
                String failure = f.get(50, TimeUnit.SECONDS);
                if (failure != null) {
                    return failure;
                }
            }
            if (handler.mismatch.get() != null) {
                return handler.mismatch.get();
            }
            if (handler.bytes.get() != echoedBytes.get()) {
                return "server read " + handler.bytes.get() + " bytes, client got " + echoedBytes.get() + " back";
            }
            if (handler.heapChunks.get() > 0 || handler.directChunks.get() == 0) {
                return "server read request bodies into heap buffers: direct=" + handler.directChunks.get()
                        + " heap=" + handler.heapChunks.get();
            }
            long serverDirect = serverPool.getDirectByteBufferCount();
            long clientDirect = clientPool.getDirectByteBufferCount();
            if (serverDirect == 0 || clientDirect == 0) {
                return "the ByteBufferPools hold no direct buffers: server=" + serverDirect + " client=" + clientDirect;
            }
            System.out.println("JETTY OK requests=" + requests + " bytes=" + echoedBytes.get()
                    + " serverDirectChunks=" + handler.directChunks.get() + " serverHeapChunks=" + handler.heapChunks.get()
                    + " serverPoolDirectBuffers=" + serverDirect + " serverPoolDirectBytes=" + serverPool.getDirectMemory()
                    + " serverPoolHeapBuffers=" + serverPool.getHeapByteBufferCount()
                    + " clientPoolDirectBuffers=" + clientDirect + " clientPoolDirectBytes=" + clientPool.getDirectMemory()
                    + " clientPoolHeapBuffers=" + clientPool.getHeapByteBufferCount());
            return null;
        } finally {
            senders.shutdownNow();
            client.stop();
            server.stop();
        }
    }
}
