package io.jvmem.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import org.HdrHistogram.Histogram;

/**
 * End-to-end workload: a Netty echo server on loopback (NIO transport, one event loop, pooled direct buffers) and
 * blocking clients doing request/response round trips of {@code size} bytes. Round-trip latency goes into an
 * HdrHistogram; after {@code warmup} seconds the histograms are reset and {@code seconds} are measured. bench/run
 * runs it in alternating rounds without the agent ("jdk") and with the agent routing {@code io.netty} to a pool
 * ("pool"), so Netty's arenas take their chunks from pool memory; the results page merges the rounds' histograms.
 *
 * <p>Usage: {@code NettyEcho <variant> <out.json> [seconds] [warmup] [connections] [size]}
 */
public final class NettyEcho {
    private NettyEcho() {
    }

    @ChannelHandler.Sharable
    static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    public static void main(String[] args) throws Exception {
        String variant = args[0];
        Path out = Path.of(args[1]);
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 20;
        double warmup = args.length > 3 ? Double.parseDouble(args[3]) : 5;
        int connections = args.length > 4 ? Integer.parseInt(args[4]) : 4;
        int size = args.length > 5 ? Integer.parseInt(args[5]) : 1024;

        System.setProperty("jvmem.bench.variant", variant);
        ByteBuf probe = PooledByteBufAllocator.DEFAULT.directBuffer(size);
        RoutingCheck.check(probe.nioBuffer(0, size));
        probe.release();

        EventLoopGroup group = new NioEventLoopGroup(1);
        try {
            Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new Echo());
                        }
                    })
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            InetSocketAddress addr = (InetSocketAddress) server.localAddress();
            Result r = drive(addr, connections, size, warmup, seconds);
            server.close().sync();
            String json = String.format(Locale.ROOT,
                    "{\"variant\": \"%s\", \"connections\": %d, \"size\": %d, \"seconds\": %.6f, \"roundTrips\": %d, "
                            + "\"throughput\": %.1f, \"p50us\": %.2f, \"p99us\": %.2f, \"p999us\": %.2f, \"maxus\": %.2f, "
                            + "\"histogram\": \"%s\"}%n",
                    variant, connections, size, r.seconds, r.hist.getTotalCount(), r.hist.getTotalCount() / r.seconds,
                    r.hist.getValueAtPercentile(50) / 1000.0, r.hist.getValueAtPercentile(99) / 1000.0,
                    r.hist.getValueAtPercentile(99.9) / 1000.0, r.hist.getMaxValue() / 1000.0, encode(r.hist));
            Files.writeString(out, json);
            System.out.print(json.substring(0, json.indexOf(", \"histogram\"")) + "}\n");
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }

    /** The histogram, compressed and base64-encoded, so that the results page can merge runs. */
    static String encode(Histogram h) {
        ByteBuffer b = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int n = h.encodeIntoCompressedByteBuffer(b);
        return java.util.Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(b.array(), n));
    }

    static Histogram decode(String base64) {
        try {
            return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(java.util.Base64.getDecoder().decode(base64)), 0);
        } catch (java.util.zip.DataFormatException e) {
            throw new IllegalArgumentException("bad histogram", e);
        }
    }

    record Result(Histogram hist, double seconds) {
    }

    static Result drive(InetSocketAddress addr, int connections, int size, double warmup, double seconds) throws Exception {
        AtomicBoolean measuring = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        List<Histogram> hists = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int c = 0; c < connections; c++) {
            Histogram h = new Histogram(3_600_000_000L, 3);
            hists.add(h);
            Thread t = new Thread(() -> {
                try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(addr)) {
                    ch.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
                    ByteBuffer req = ByteBuffer.allocateDirect(size);
                    ByteBuffer resp = ByteBuffer.allocateDirect(size);
                    boolean recording = false;
                    while (!stop.get()) {
                        if (!recording && measuring.get()) {
                            synchronized (h) {
                                h.reset();
                            }
                            recording = true;
                        }
                        long t0 = System.nanoTime();
                        req.clear();
                        while (req.hasRemaining()) {
                            ch.write(req);
                        }
                        resp.clear();
                        while (resp.hasRemaining()) {
                            if (ch.read(resp) < 0) {
                                throw new IOException("server closed the connection");
                            }
                        }
                        long dt = System.nanoTime() - t0;
                        synchronized (h) {
                            h.recordValue(Math.min(dt, h.getHighestTrackableValue()));
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }, "echo-client-" + c);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        Thread.sleep((long) (warmup * 1000));
        measuring.set(true);
        long start = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        Histogram total = new Histogram(3_600_000_000L, 3);
        for (Histogram h : hists) {
            synchronized (h) {
                total.add(h);
            }
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        stop.set(true);
        for (Thread t : threads) {
            t.join(5000);
        }
        if (!errors.isEmpty()) {
            throw new IllegalStateException("echo client failed", errors.get(0));
        }
        return new Result(total, elapsed);
    }
}
