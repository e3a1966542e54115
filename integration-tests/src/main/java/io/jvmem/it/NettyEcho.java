package io.jvmem.it;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.internal.PlatformDependent;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An ordinary Netty echo server and client over loopback (NIO transport); {@code main} uses a pooled allocator that
 * hands out direct buffers ({@link NettyDefaultEcho} runs the same echo over Netty's default allocator). It uses only
 * API that Netty 4.1 and 4.2 share, so it runs on either. The client sends a byte stream drawn from a seeded PRNG in messages of 1 B..64 KiB
 * (plus a few messages larger than a Netty chunk, which Netty allocates and frees outside its pool), and checks
 * every echoed byte against the same stream.
 *
 * <p>Arguments (all optional): {@code totalBytes} (default 32 MiB), {@code seed} (default 42),
 * {@code hugeMessages} (default 2), {@code hugeSize} (default 6 MiB). Prints {@code ECHO OK bytes=...} and exits 0, or prints
 * {@code ECHO FAIL ...} and exits 1.
 */
public final class NettyEcho {
    static final int MAX_SMALL = 64 * 1024;
    static final int DEFAULT_HUGE = 6 * 1024 * 1024;
    static final long TIMEOUT_SECONDS = 45;

    public static void main(String[] args) throws Exception {
        long smallBytes = args.length > 0 ? Long.parseLong(args[0]) : 32L << 20;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 42L;
        int hugeMessages = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int hugeSize = args.length > 3 ? Integer.parseInt(args[3]) : DEFAULT_HUGE;
        ProgramExit.withCode("ECHO", () -> {
            // preferDirect=true: the allocator's buffers live off-heap, in chunks it gets from ByteBuffer.allocateDirect
            // (or Unsafe.allocateMemory when Netty may use its no-cleaner path).
            PooledByteBufAllocator alloc = new PooledByteBufAllocator(true);
            if (alloc.metric().numDirectArenas() == 0) {
                System.out.println("ECHO FAIL the pooled allocator has no direct arenas");
                return 1;
            }
            return run(alloc, smallBytes, seed, hugeMessages, hugeSize);
        });
    }

    /** A deterministic byte stream: byte i of the stream depends only on the seed and i. */
    static final class Pattern {
        private final SplittableRandom random;
        private long word;
        private int left;

        Pattern(long seed) {
            random = new SplittableRandom(seed);
        }

        byte next() {
            if (left == 0) {
                word = random.nextLong();
                left = 8;
            }
            byte b = (byte) word;
            word >>>= 8;
            left--;
            return b;
        }
    }

    /**
     * The echo over {@code alloc}, which must hand out direct buffers for {@code directBuffer()} and for the
     * channels' reads; prints the OK or FAIL line and returns the exit code.
     */
    static int run(ByteBufAllocator alloc, long smallBytes, long seed, int hugeMessages, int hugeSize) throws Exception {

        // Message sizes: log-uniform in [1, 64 KiB], then a few huge ones, shuffled in by position.
        SplittableRandom sizes = new SplittableRandom(seed ^ 0x5DEECE66DL);
        long total = smallBytes + (long) hugeMessages * hugeSize;

        EventLoopGroup boss = new NioEventLoopGroup(1);
        EventLoopGroup serverWorkers = new NioEventLoopGroup(1);
        EventLoopGroup clientGroup = new NioEventLoopGroup(1);
        AtomicLong serverDirectReads = new AtomicLong();
        AtomicLong serverHeapReads = new AtomicLong();
        try {
            ServerBootstrap sb = new ServerBootstrap()
                    .group(boss, serverWorkers)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.ALLOCATOR, alloc)
                    .childOption(ChannelOption.ALLOCATOR, alloc)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new EchoServerHandler(serverDirectReads, serverHeapReads));
                        }
                    });
            Channel server = sb.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();

            EchoClientHandler client = new EchoClientHandler(alloc, seed, smallBytes, hugeMessages, hugeSize, sizes);
            Bootstrap cb = new Bootstrap()
                    .group(clientGroup)
                    .channel(NioSocketChannel.class)
                    .option(ChannelOption.ALLOCATOR, alloc)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(client);
                        }
                    });
            ChannelFuture cf = cb.connect(server.localAddress()).sync();
            String failure;
            try {
                failure = client.done.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                failure = "timed out after " + TIMEOUT_SECONDS + " s: sent=" + client.sentBytes
                        + " received=" + client.receivedBytes + " of " + total;
            }
            cf.channel().close().sync();
            server.close().sync();
            if (failure != null) {
                System.out.println("ECHO FAIL " + failure);
                return 1;
            }
            if (serverHeapReads.get() > 0 || client.heapReads > 0) {
                System.out.println("ECHO FAIL heap buffers were read: server=" + serverHeapReads.get()
                        + " client=" + client.heapReads);
                return 1;
            }
            if (client.receivedBytes != total || client.sentBytes != total) {
                System.out.println("ECHO FAIL sent=" + client.sentBytes + " received=" + client.receivedBytes
                        + " expected=" + total);
                return 1;
            }
            System.out.println("ECHO OK bytes=" + total + " messages=" + client.messages
                    + " hugeMessages=" + hugeMessages + " hugeSize=" + hugeSize
                    + " serverReads=" + serverDirectReads.get() + " clientReads=" + client.directReads
                    + " allocator=" + alloc.getClass().getSimpleName()
                    + " peakDirectUsed=" + client.peakDirectUsed
                    + " unsafe=" + PlatformDependent.hasUnsafe()
                    + " noCleaner=" + PlatformDependent.useDirectBufferNoCleaner());
            return 0;
        } finally {
            clientGroup.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
            serverWorkers.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
            boss.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Writes back whatever it reads; it reads into the (direct, pooled) buffers of the allocator. */
    static final class EchoServerHandler extends ChannelInboundHandlerAdapter {
        private final AtomicLong directReads;
        private final AtomicLong heapReads;

        EchoServerHandler(AtomicLong directReads, AtomicLong heapReads) {
            this.directReads = directReads;
            this.heapReads = heapReads;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            (buf.isDirect() ? directReads : heapReads).incrementAndGet();
            ctx.write(buf, ctx.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            // Backpressure: stop reading while the echo backlog is high.
            ctx.channel().config().setAutoRead(ctx.channel().isWritable());
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            cause.printStackTrace(System.out);
            ctx.close();
        }
    }

    /** Sends the pattern stream while the channel is writable and checks the echoed bytes. */
    static final class EchoClientHandler extends ChannelInboundHandlerAdapter {
        final CompletableFuture<String> done = new CompletableFuture<>();
        private final ByteBufAllocator alloc;
        private final Pattern outgoing;
        private final Pattern expected;
        private final SplittableRandom sizes;
        private final long total;
        private final long smallBytes;
        private int hugeLeft;
        private final int hugeSize;
        private long smallSent;
        volatile long sentBytes;
        volatile long receivedBytes;
        volatile long messages;
        volatile long directReads;
        volatile long heapReads;
        volatile long peakDirectUsed;

        EchoClientHandler(ByteBufAllocator alloc, long seed, long smallBytes, int hugeMessages, int hugeSize,
                          SplittableRandom sizes) {
            this.alloc = alloc;
            this.outgoing = new Pattern(seed);
            this.expected = new Pattern(seed);
            this.sizes = sizes;
            this.smallBytes = smallBytes;
            this.hugeLeft = hugeMessages;
            this.hugeSize = hugeSize;
            this.total = smallBytes + (long) hugeMessages * hugeSize;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            pump(ctx);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            pump(ctx);
        }

        private int nextSize() {
            long smallLeft = smallBytes - smallSent;
            boolean huge = hugeLeft > 0 && (smallLeft == 0 || sizes.nextInt(200) == 0);
            if (huge) {
                hugeLeft--;
                return hugeSize;
            }
            // log-uniform in [1, 64 KiB]
            int bits = sizes.nextInt(17);
            int size = 1 + sizes.nextInt(1 << bits);
            size = Math.min(size, MAX_SMALL);
            int n = (int) Math.min(size, smallLeft);
            smallSent += n;
            return n;
        }

        private void pump(ChannelHandlerContext ctx) {
            Channel ch = ctx.channel();
            boolean wrote = false;
            while (ch.isActive() && ch.isWritable() && sentBytes < total) {
                int size = nextSize();
                ByteBuf buf = alloc.directBuffer(size, size);
                if (!buf.isDirect()) {
                    buf.release();
                    done.complete("allocator returned a heap buffer for directBuffer()");
                    return;
                }
                for (int i = 0; i < size; i++) {
                    buf.writeByte(outgoing.next());
                }
                sentBytes += size;
                messages++;
                ctx.write(buf, ctx.voidPromise());
                wrote = true;
                long used = alloc instanceof ByteBufAllocatorMetricProvider m ? m.metric().usedDirectMemory() : 0;
                if (used > peakDirectUsed) {
                    peakDirectUsed = used;
                }
            }
            if (wrote) {
                ctx.flush();
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                if (buf.isDirect()) {
                    directReads++;
                } else {
                    heapReads++;
                }
                int n = buf.readableBytes();
                int start = buf.readerIndex();
                for (int i = 0; i < n; i++) {
                    byte want = expected.next();
                    byte got = buf.getByte(start + i);
                    if (got != want) {
                        done.complete("mismatch at stream offset " + (receivedBytes + i) + ": got " + got
                                + " expected " + want);
                        ctx.close();
                        return;
                    }
                }
                receivedBytes += n;
                if (receivedBytes == total) {
                    done.complete(null);
                } else if (receivedBytes > total) {
                    done.complete("received " + receivedBytes + " bytes, more than the " + total + " sent");
                }
            } finally {
                buf.release();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            done.complete("connection closed after " + receivedBytes + " of " + total + " bytes");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.complete("exception: " + cause);
            ctx.close();
        }
    }
}
