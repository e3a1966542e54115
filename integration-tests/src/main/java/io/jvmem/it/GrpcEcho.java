package io.jvmem.it;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.OpenSsl;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import io.grpc.netty.shaded.io.netty.util.internal.PlatformDependent;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordingFile;

/**
 * gRPC-java over grpc-netty-shaded (its own copy of Netty 4.2 under {@code io.grpc.netty.shaded.io.netty}): a server on
 * a loopback port and a client channel in this JVM, a service of two methods built by hand (no protobuf), whose
 * messages are {@code byte[]} through a marshaller of the program's own.
 *
 * <ul>
 *   <li>{@code jvmem.Echo/Unary}: {@code rounds} rounds of one call per size, 1 KiB..1 MiB (plus a few odd bytes, so
 *       no size is a power of two).</li>
 *   <li>{@code jvmem.Echo/Bidi}: two bidi-streaming calls at once, each sending {@code rounds} times every size and
 *       reading the echoes as they come.</li>
 * </ul>
 * Every message starts with its id and length and continues with bytes from a PRNG seeded by {@code seed} and the id:
 * the server regenerates and checks every byte it receives before echoing it, and the client checks every byte of the
 * echo against what it sent.
 *
 * <p>Netty's own account of its direct memory is read as {@link NettyDefaultEcho} reads it, from the JFR chunk events
 * of Netty 4.2's allocators ({@code AllocateChunk}/{@code FreeChunk}; shading renamed them under
 * {@code io.grpc.netty.shaded.io.netty.}): every direct chunk gRPC's allocator (a {@code PooledByteBufAllocator} of
 * its own, direct) took from the platform, with its address and capacity. A chunk whose address lies in a mapping of a
 * file in {@code poolDir} was served by the memory pool.
 *
 * <p>With {@code tls}, the calls go over TLS (see {@link Tls}): with the shaded netty-tcnative, BoringSSL in native
 * code encrypts from and decrypts into Netty's direct buffers by their addresses.
 *
 * <p>Arguments (all optional): {@code rounds} (default 4), {@code seed} (default 42), {@code poolDir} (empty: none),
 * {@code tls}. Prints {@code GRPC OK unary=N bidi=N bytes=B checked=B jdkDirectPeak=B tls=none|OPENSSL|JDK} (see
 * {@link DirectPeak}) and {@code NETTY DIRECT version=... cleaner=... unsafe=...
 * chunks=N chunkBytes=B poolChunks=N poolChunkBytes=B noAddress=N freedChunks=N freedBytes=B largestChunk=B};
 * exits 0, or prints {@code GRPC FAIL ...} and exits 1.
 */
public final class GrpcEcho {
    static final String ALLOCATE_CHUNK = "io.grpc.netty.shaded.io.netty.AllocateChunk";
    static final String FREE_CHUNK = "io.grpc.netty.shaded.io.netty.FreeChunk";
    static final int[] SIZES = {1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20};
    static final int HEADER = 12;
    static final String SERVICE = "jvmem.Echo";

    /** byte[] as it is, on the wire and back. */
    static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    static final MethodDescriptor<byte[], byte[]> UNARY = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Unary"))
            .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();

    static final MethodDescriptor<byte[], byte[]> BIDI = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
            .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Bidi"))
            .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 42L;
        String poolDir = args.length > 2 && !args[2].isEmpty() ? args[2] : null;
        boolean tls = args.length > 3 && args[3].equals("tls");
        ProgramExit.withCode("GRPC", () -> run(rounds, seed, poolDir, tls));
    }

    static int run(int rounds, long seed, String poolDir, boolean tls) throws Exception {
        Path jfr = Path.of("grpc-netty-chunks.jfr").toAbsolutePath();
        String failure;
        try (Recording recording = new Recording()) {
            recording.enable(ALLOCATE_CHUNK);
            recording.enable(FREE_CHUNK);
            recording.start();
            DirectPeak peak = new DirectPeak();
            try {
                failure = echo(rounds, seed, peak, tls ? Tls.create() : null);
            } finally {
                peak.stop();
            }
            recording.stop();
            recording.dump(jfr);
        }
        if (failure != null) {
            System.out.println("GRPC FAIL " + failure);
            return 1;
        }
        return accountChunks(jfr, poolDir);
    }

    /** The message with this id: id, length, then the id's PRNG stream. */
    static byte[] message(long seed, int id, int size) {
        byte[] b = new byte[size];
        fill(seed, id, b);
        ByteBuffer.wrap(b).putInt(id).putInt(size).putInt((int) seed);
        return b;
    }

    private static void fill(long seed, int id, byte[] b) {
        SplittableRandom r = new SplittableRandom(seed * 1_000_003L + id);
        for (int i = HEADER; i < b.length; i += 8) {
            long v = r.nextLong();
            for (int k = 0; k < 8 && i + k < b.length; k++) {
                b[i + k] = (byte) (v >>> (8 * k));
            }
        }
    }

    /** Null if {@code got} is exactly the message its header names; else what is wrong. */
    static String check(long seed, byte[] got) {
        if (got.length < HEADER) {
            return "a message of " + got.length + " bytes, shorter than its header";
        }
        ByteBuffer h = ByteBuffer.wrap(got);
        int id = h.getInt();
        int size = h.getInt();
        if (size != got.length || h.getInt() != (int) seed) {
            return "message " + id + ": " + got.length + " bytes, header says " + size;
        }
        byte[] want = message(seed, id, size);
        int at = Arrays.mismatch(want, got);
        return at < 0 ? null : "message " + id + " of " + size + " bytes differs at byte " + at;
    }

    static int size(int round, int index) {
        return SIZES[index] + (round * 7 + index * 3) % 13;
    }

    private static String echo(int rounds, long seed, DirectPeak peak, Tls tls) throws Exception {
        AtomicLong serverChecked = new AtomicLong();
        AtomicReference<String> serverFailure = new AtomicReference<>();
        ServerServiceDefinition service = ServerServiceDefinition.builder(SERVICE)
                .addMethod(UNARY, ServerCalls.asyncUnaryCall((byte[] req, StreamObserver<byte[]> out) -> {
                    String bad = check(seed, req);
                    if (bad != null) {
                        serverFailure.compareAndSet(null, "server: " + bad);
                    }
                    serverChecked.addAndGet(req.length);
                    out.onNext(req);
                    out.onCompleted();
                }))
                .addMethod(BIDI, ServerCalls.asyncBidiStreamingCall((StreamObserver<byte[]> out) -> new StreamObserver<>() {
                    @Override
                    public void onNext(byte[] req) {
                        String bad = check(seed, req);
                        if (bad != null) {
                            serverFailure.compareAndSet(null, "server: " + bad);
                        }
                        serverChecked.addAndGet(req.length);
                        out.onNext(req);
                    }

                    @Override
                    public void onError(Throwable t) {
                        serverFailure.compareAndSet(null, "server stream failed: " + t);
                    }

                    @Override
                    public void onCompleted() {
                        out.onCompleted();
                    }
                }))
                .build();
        int maxMessage = 2 << 20;
        NettyServerBuilder serverBuilder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .maxInboundMessageSize(maxMessage)
                .addService(service);
        if (tls != null) {
            serverBuilder.sslContext(tls.server());
        }
        Server server = serverBuilder.build().start();
        NettyChannelBuilder channelBuilder = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
                .maxInboundMessageSize(maxMessage);
        if (tls != null) {
            channelBuilder.sslContext(tls.client()).overrideAuthority("localhost");
        } else {
            channelBuilder.usePlaintext();
        }
        ManagedChannel channel = channelBuilder.build();
        long bytes = 0;
        long checked = 0;
        int unary = 0;
        int bidi = 0;
        // the two bidi calls run at once, each on a thread of its own
        ExecutorService clients = Executors.newFixedThreadPool(2);
        try {
            int id = 0;
            for (int round = 0; round < rounds; round++) {
                for (int i = 0; i < SIZES.length; i++) {
                    byte[] req = message(seed, id++, size(round, i));
                    byte[] resp = ClientCalls.blockingUnaryCall(channel, UNARY, CallOptions.DEFAULT, req);
                    if (!Arrays.equals(req, resp)) {
                        return "unary echo of message " + (id - 1) + " (" + req.length + " bytes) differs: "
                                + (check(seed, resp) == null ? "another message came back" : check(seed, resp));
                    }
                    bytes += 2L * req.length;
                    checked += resp.length;
                    unary++;
                }
            }
            List<CompletableFuture<long[]>> streams = new ArrayList<>();
            for (int s = 0; s < 2; s++) {
                int first = id + s * rounds * SIZES.length;
                streams.add(CompletableFuture.supplyAsync(() -> bidiStream(channel, seed, first, rounds), clients));
            }
            for (CompletableFuture<long[]> f : streams) {
                long[] r = f.get(50, TimeUnit.SECONDS);
                bidi += (int) r[0];
                bytes += 2 * r[1];
                checked += r[1];
            }
        } catch (java.util.concurrent.ExecutionException e) {
            return "bidi stream: " + e.getCause();
        } finally {
            clients.shutdown();
            channel.shutdown();
            server.shutdown();
            channel.awaitTermination(10, TimeUnit.SECONDS);
            server.awaitTermination(10, TimeUnit.SECONDS);
        }
        if (serverFailure.get() != null) {
            return serverFailure.get();
        }
        checked += serverChecked.get();
        if (checked != bytes) {
            return "checked " + checked + " of " + bytes + " bytes";
        }
        System.out.println("GRPC OK unary=" + unary + " bidi=" + bidi + " bytes=" + bytes + " checked=" + checked
                + " jdkDirectPeak=" + peak.stop() + " tls=" + (tls == null ? "none" : tls.provider()));
        return null;
    }

    /**
     * TLS through the shaded netty-tcnative (BoringSSL, JNI) when it loads, for a key pair and self-signed certificate
     * for {@code localhost} that the JDK's {@code keytool} makes in the working directory.
     */
    record Tls(PrivateKey key, X509Certificate cert, SslProvider provider) {
        static Tls create() throws Exception {
            Path store = Path.of("grpc-tls.p12").toAbsolutePath();
            char[] pass = "changeit".toCharArray();
            if (!Files.exists(store)) {
                Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                        "-genkeypair", "-alias", "grpc", "-keyalg", "EC", "-groupname", "secp256r1",
                        "-dname", "CN=localhost", "-ext", "SAN=dns:localhost", "-validity", "2",
                        "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", "changeit")
                        .redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes());
                if (p.waitFor() != 0) {
                    throw new IOException("keytool failed: " + out);
                }
            }
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(store)) {
                ks.load(in, pass);
            }
            SslProvider provider = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
            return new Tls((PrivateKey) ks.getKey("grpc", pass), (X509Certificate) ks.getCertificate("grpc"), provider);
        }

        SslContext server() throws IOException {
            return GrpcSslContexts.configure(SslContextBuilder.forServer(key, cert), provider).build();
        }

        SslContext client() throws IOException {
            return GrpcSslContexts.configure(SslContextBuilder.forClient().trustManager(cert), provider).build();
        }
    }

    /**
     * The largest {@code memoryUsed} of the JDK's {@code direct} buffer pool seen while the echo runs (sampled every
     * millisecond): the direct memory the JDK itself handed out, which pool buffers are not part of.
     */
    static final class DirectPeak {
        private final BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
        private final AtomicLong max = new AtomicLong();
        private volatile boolean running = true;
        private final Thread sampler = Thread.ofPlatform().daemon().name("jdk-direct-peak").start(() -> {
            while (running) {
                sample();
                LockSupport.parkNanos(1_000_000);
            }
        });

        private void sample() {
            max.accumulateAndGet(direct.getMemoryUsed(), Math::max);
        }

        long stop() throws InterruptedException {
            running = false;
            sampler.join();
            sample();
            return max.get();
        }
    }

    /** One bidi call: sends {@code rounds} times every size, checks each echo in order; {messages, bytes}. */
    private static long[] bidiStream(ManagedChannel channel, long seed, int first, int rounds) {
        LinkedBlockingQueue<Object> echoes = new LinkedBlockingQueue<>();
        Object done = new Object();
        StreamObserver<byte[]> requests = ClientCalls.asyncBidiStreamingCall(channel.newCall(BIDI, CallOptions.DEFAULT),
                new StreamObserver<>() {
                    @Override
                    public void onNext(byte[] value) {
                        echoes.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        echoes.add(t);
                    }

                    @Override
                    public void onCompleted() {
                        echoes.add(done);
                    }
                });
        int id = first;
        List<byte[]> sent = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < SIZES.length; i++) {
                byte[] req = message(seed, id++, size(round + 1, i));
                sent.add(req);
                requests.onNext(req);
            }
        }
        requests.onCompleted();
        long bytes = 0;
        try {
            for (byte[] req : sent) {
                Object got = echoes.poll(40, TimeUnit.SECONDS);
                if (!(got instanceof byte[] resp)) {
                    throw new IllegalStateException("bidi stream ended early with " + got + " before message "
                            + ByteBuffer.wrap(req).getInt());
                }
                if (!Arrays.equals(req, resp)) {
                    throw new IllegalStateException("bidi echo of message " + ByteBuffer.wrap(req).getInt() + " ("
                            + req.length + " bytes) differs: " + check(seed, resp));
                }
                bytes += req.length;
            }
            Object end = echoes.poll(40, TimeUnit.SECONDS);
            if (end != done) {
                throw new IllegalStateException("bidi stream did not complete: " + end);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return new long[] {sent.size(), bytes};
    }

    private static int accountChunks(Path jfr, String poolDir) throws Exception {
        List<long[]> pool = poolDir == null ? List.of() : NettyDefaultEcho.mappingsOf(Path.of(poolDir).toAbsolutePath());
        NettyChunks c = NettyChunks.tally(RecordingFile.readAllEvents(jfr), ALLOCATE_CHUNK, FREE_CHUNK, pool);
        if (c.chunks() == 0) {
            System.out.println("GRPC FAIL the shaded Netty reported no direct chunk in " + jfr);
            return 1;
        }
        System.out.println("NETTY DIRECT version=" + shadedNettyVersion()
                + " cleaner=" + cleanerName()
                + " unsafe=" + PlatformDependent.hasUnsafe()
                + c.fields());
        return 0;
    }

    /**
     * The shaded Netty's version, from the properties file shading renamed (Netty's own {@code Version.identify()}
     * reads {@code META-INF/io.netty.versions.properties}, which is any unshaded Netty's on the class path).
     */
    private static String shadedNettyVersion() throws IOException {
        Properties p = new Properties();
        try (InputStream in = GrpcEcho.class.getClassLoader()
                .getResourceAsStream("META-INF/io.grpc.netty.shaded.io.netty.versions.properties")) {
            if (in != null) {
                p.load(in);
            }
        }
        return p.getProperty("netty-common.version", "unknown");
    }

    /** The simple name of the class the shaded Netty allocates and frees its direct memory with. */
    private static String cleanerName() throws ReflectiveOperationException {
        Field f = PlatformDependent.class.getDeclaredField("CLEANER");
        f.setAccessible(true);
        return f.get(null).getClass().getSimpleName();
    }
}
