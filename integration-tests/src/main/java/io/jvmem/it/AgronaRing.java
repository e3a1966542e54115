package io.jvmem.it;

import org.agrona.BitUtil;
import org.agrona.BufferUtil;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.ExpandableRingBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Ordinary Agrona 2.x use of direct memory, all of which Agrona allocates with {@code ByteBuffer.allocateDirect}
 * (its {@code UnsafeApi.allocateMemory} is never called by Agrona itself):
 *
 * <ul>
 *   <li>an {@link ExpandableDirectByteBuffer} grown from 64 B to a few MiB by writes past its end (each growth is
 *       an {@code allocateDirect} in {@code org.agrona.ExpandableDirectByteBuffer} plus a copy), every byte
 *       checked, then released with {@link BufferUtil#free(ByteBuffer)} ({@code UnsafeApi.invokeCleaner});</li>
 *   <li>cache-line aligned buffers from {@link BufferUtil#allocateDirectAligned} (alignment checked) wrapped in
 *       {@link UnsafeBuffer}s, filled and checked;</li>
 *   <li>a {@link OneToOneRingBuffer} over such an aligned buffer, with a producer thread writing messages of
 *       1 B..max length drawn from a seeded PRNG and a consumer thread checking type, length, order and every
 *       byte of each;</li>
 *   <li>a direct {@link ExpandableRingBuffer} that grows while messages are appended, then is drained and
 *       checked.</li>
 * </ul>
 *
 * <p>Arguments (optional): {@code messages} (default 200000), {@code seed} (default 11). Prints
 * {@code AGRONA OK ...} and exits 0, or prints {@code AGRONA FAIL ...} and exits 1.
 */
public final class AgronaRing {
    static final int RING_CAPACITY = 1 << 20;
    static final int EXPAND_TO = 6 << 20;

    public static void main(String[] args) {
        int messages = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 11L;
        ProgramExit.withFailure("AGRONA", () -> run(messages, seed));
    }

    /** Byte {@code i} of a message with sequence number {@code seq}: depends only on both. */
    static byte patternByte(long seq, int i) {
        long x = seq * 0x9E3779B97F4A7C15L + i * 0xBF58476D1CE4E5B9L;
        x ^= x >>> 29;
        return (byte) (x ^ (x >>> 17));
    }

    /** Message lengths: log-uniform in [1, max]. */
    static int nextLength(SplittableRandom r, int max) {
        int bits = r.nextInt(31 - Integer.numberOfLeadingZeros(max) + 1);
        return Math.min(max, 1 + r.nextInt(1 << bits));
    }

    static String run(int messages, long seed) throws Exception {
        StringBuilder ok = new StringBuilder("AGRONA OK");

        // 1. ExpandableDirectByteBuffer, grown by writes past its end.
        ExpandableDirectByteBuffer expandable = new ExpandableDirectByteBuffer(64);
        if (!expandable.byteBuffer().isDirect()) {
            return "ExpandableDirectByteBuffer is not backed by a direct buffer";
        }
        int growths = 0;
        int lastCapacity = expandable.capacity();
        for (int i = 0; i < EXPAND_TO; i += 8) {
            expandable.putLong(i, i * 0x100000001L + seed);
            if (expandable.capacity() != lastCapacity) {
                growths++;
                lastCapacity = expandable.capacity();
                if (!expandable.byteBuffer().isDirect()) {
                    return "ExpandableDirectByteBuffer grew into a non-direct buffer";
                }
            }
        }
        for (int i = 0; i < EXPAND_TO; i += 8) {
            long got = expandable.getLong(i);
            if (got != i * 0x100000001L + seed) {
                return "ExpandableDirectByteBuffer: long at " + i + " is " + got;
            }
        }
        ByteBuffer view = expandable.byteBuffer();
        for (int i = 0; i < EXPAND_TO; i++) {
            long word = i / 8 * 8 * 0x100000001L + seed;
            byte want = (byte) (word >>> (8 * (i & 7)));   // putLong writes little-endian (native) order
            if (view.get(i) != want) {
                return "ExpandableDirectByteBuffer: byte " + i + " is " + view.get(i) + " expected " + want;
            }
        }
        if (growths < 10) {
            return "ExpandableDirectByteBuffer grew only " + growths + " times";
        }
        ok.append(" expandableCapacity=").append(expandable.capacity()).append(" growths=").append(growths);
        BufferUtil.free(expandable.byteBuffer());     // Agrona's explicit release: UnsafeApi.invokeCleaner

        // 2. Aligned buffers wrapped in UnsafeBuffers.
        long alignedBytes = 0;
        for (int size = 64; size <= (1 << 20); size *= 4) {
            for (int align : new int[] {BitUtil.CACHE_LINE_LENGTH, 4096}) {
                ByteBuffer bb = BufferUtil.allocateDirectAligned(size, align);
                UnsafeBuffer ub = new UnsafeBuffer(bb);
                if (!bb.isDirect() || bb.capacity() != size || ub.capacity() != size) {
                    return "allocateDirectAligned(" + size + ", " + align + ") gave " + bb;
                }
                if ((ub.addressOffset() & (align - 1)) != 0) {
                    return "allocateDirectAligned(" + size + ", " + align + ") address " + ub.addressOffset()
                            + " is not aligned";
                }
                for (int i = 0; i < size; i++) {
                    if (ub.getByte(i) != 0) {
                        return "allocateDirectAligned(" + size + ") not zeroed at " + i;
                    }
                    ub.putByte(i, patternByte(size + align, i));
                }
                for (int i = 0; i < size; i++) {
                    if (bb.get(i) != patternByte(size + align, i)) {
                        return "allocateDirectAligned(" + size + ", " + align + ") byte " + i + " differs";
                    }
                }
                alignedBytes += size;
            }
        }
        ok.append(" alignedBytes=").append(alignedBytes);

        // 3. OneToOneRingBuffer: a producer thread and a consumer thread.
        ByteBuffer ringMemory = BufferUtil.allocateDirectAligned(
                RING_CAPACITY + RingBufferDescriptor.TRAILER_LENGTH, BitUtil.CACHE_LINE_LENGTH);
        OneToOneRingBuffer ring = new OneToOneRingBuffer(new UnsafeBuffer(ringMemory));
        int maxLength = Math.min(ring.maxMsgLength(), 64 * 1024);
        AtomicReference<String> problem = new AtomicReference<>();
        long[] sentBytes = new long[1];
        long[] receivedBytes = new long[1];
        long[] receivedCount = new long[1];
        Thread producer = new Thread(() -> {
            SplittableRandom lengths = new SplittableRandom(seed);
            UnsafeBuffer src = new UnsafeBuffer(new byte[maxLength]);
            for (int seq = 0; seq < messages && problem.get() == null; seq++) {
                int len = nextLength(lengths, maxLength);
                for (int i = 0; i < len; i++) {
                    src.putByte(i, patternByte(seq, i));
                }
                int typeId = 1 + (seq & 0xFFFF);
                while (!ring.write(typeId, src, 0, len)) {
                    if (problem.get() != null) {
                        return;
                    }
                    Thread.onSpinWait();
                }
                sentBytes[0] += len;
            }
        }, "agrona-producer");
        Thread consumer = new Thread(() -> {
            SplittableRandom lengths = new SplittableRandom(seed);
            long[] seq = {0};
            while (seq[0] < messages && problem.get() == null) {
                int n = ring.read((typeId, buffer, index, length) -> {
                    if (problem.get() != null) {
                        return;
                    }
                    long s = seq[0];
                    int want = nextLength(lengths, maxLength);
                    if (typeId != 1 + (s & 0xFFFF) || length != want) {
                        problem.compareAndSet(null, "message " + s + ": type " + typeId + " length " + length
                                + ", expected type " + (1 + (s & 0xFFFF)) + " length " + want);
                        return;
                    }
                    for (int i = 0; i < length; i++) {
                        byte got = buffer.getByte(index + i);
                        if (got != patternByte(s, i)) {
                            problem.compareAndSet(null, "message " + s + " byte " + i + ": got " + got
                                    + " expected " + patternByte(s, i));
                            return;
                        }
                    }
                    receivedBytes[0] += length;
                    receivedCount[0]++;
                    seq[0]++;
                }, 64);
                if (n == 0) {
                    Thread.onSpinWait();
                }
            }
        }, "agrona-consumer");
        producer.start();
        consumer.start();
        producer.join(40_000);
        consumer.join(40_000);
        if (producer.isAlive() || consumer.isAlive()) {
            problem.compareAndSet(null, "ring buffer threads did not finish: received " + receivedCount[0]
                    + " of " + messages);
            producer.interrupt();
            consumer.interrupt();
        }
        if (problem.get() != null) {
            return problem.get();
        }
        if (receivedCount[0] != messages || receivedBytes[0] != sentBytes[0]) {
            return "ring buffer: received " + receivedCount[0] + " messages / " + receivedBytes[0]
                    + " bytes, sent " + messages + " / " + sentBytes[0];
        }
        ok.append(" ringMessages=").append(receivedCount[0]).append(" ringBytes=").append(receivedBytes[0]);

        // 4. A direct ExpandableRingBuffer that grows while it fills, then is drained.
        ExpandableRingBuffer expandingRing = new ExpandableRingBuffer(128, 8 << 20, true);
        if (!expandingRing.isDirect()) {
            return "ExpandableRingBuffer(direct=true) is not direct";
        }
        SplittableRandom lengths = new SplittableRandom(seed ^ 1);
        UnsafeBuffer src = new UnsafeBuffer(new byte[16 * 1024]);
        int appended = 0;
        long appendedBytes = 0;
        while (appendedBytes < (4 << 20)) {
            int len = nextLength(lengths, src.capacity());
            for (int i = 0; i < len; i++) {
                src.putByte(i, patternByte(1_000_000 + appended, i));
            }
            if (!expandingRing.append(src, 0, len)) {
                return "ExpandableRingBuffer refused message " + appended + " at size " + expandingRing.size();
            }
            appended++;
            appendedBytes += len;
        }
        int ringCapacity = expandingRing.capacity();
        SplittableRandom check = new SplittableRandom(seed ^ 1);
        int[] consumed = {0};
        String[] bad = {null};
        expandingRing.consume((buffer, offset, length, headOffset) -> {
            int s = consumed[0];
            int want = nextLength(check, src.capacity());
            if (length != want) {
                bad[0] = "ExpandableRingBuffer message " + s + " length " + length + " expected " + want;
                return false;
            }
            for (int i = 0; i < length; i++) {
                if (buffer.getByte(offset + i) != patternByte(1_000_000 + s, i)) {
                    bad[0] = "ExpandableRingBuffer message " + s + " byte " + i + " differs";
                    return false;
                }
            }
            consumed[0]++;
            return true;
        }, Integer.MAX_VALUE);
        if (bad[0] != null) {
            return bad[0];
        }
        if (consumed[0] != appended || !expandingRing.isEmpty()) {
            return "ExpandableRingBuffer: consumed " + consumed[0] + " of " + appended;
        }
        ok.append(" expandingRingCapacity=").append(ringCapacity).append(" expandingRingMessages=").append(appended);

        System.out.println(ok);
        return null;
    }
}
