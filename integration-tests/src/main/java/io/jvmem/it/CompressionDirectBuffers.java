package io.jvmem.it;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDictCompress;
import com.github.luben.zstd.ZstdDictDecompress;
import com.github.luben.zstd.ZstdDictTrainer;
import com.github.luben.zstd.ZstdDirectBufferCompressingStream;
import com.github.luben.zstd.ZstdDirectBufferDecompressingStream;
import com.github.luben.zstd.ZstdFrameProgression;
import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;

import net.jpountz.lz4.LZ4BlockInputStream;
import net.jpountz.lz4.LZ4BlockOutputStream;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4FastDecompressor;
import net.jpountz.lz4.LZ4JNIFastResetCompressor;
import net.jpountz.lz4.LZ4SafeDecompressor;
import net.jpountz.xxhash.XXHashFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Ordinary use of two compression libraries whose native code reads and writes direct ByteBuffers by their address:
 * zstd-jni (com.github.luben.zstd) and lz4-java (net.jpountz, the at.yawk.lz4 fork). Every byte that goes through
 * a codec is checked against the original.
 *
 * <p>zstd-jni 1.5.7 is a multi-release jar: on JDK 22+ its classes under {@code META-INF/versions/22} call the
 * native library through the FFM API (critical downcalls on {@code MemorySegment.ofBuffer} views) instead of JNI;
 * lz4-java calls JNI ({@code GetDirectBufferAddress}). Direct memory comes from two places:
 *
 * <ul>
 *   <li><b>this class</b> ({@code ByteBuffer.allocateDirect} here): the sources, destinations and stream buffers
 *       handed to {@code Zstd.compress/decompress(ByteBuffer, ByteBuffer)}, {@link ZstdDirectBufferCompressingStream},
 *       {@link ZstdDirectBufferDecompressingStream}, lz4's compressors and decompressors and xxHash;</li>
 *   <li><b>zstd-jni itself</b>: {@code ZstdCompressCtx.compress(ByteBuffer)} and
 *       {@code ZstdDecompressCtx.decompress(ByteBuffer, int)} return direct buffers they allocate
 *       ({@code allocateDirect}); {@link ZstdDictTrainer} allocates its sample and dictionary buffers the same way;
 *       dictionary training allocates in a confined {@code Arena} ({@code Zstd.trainFromBufferDirect0},
 *       {@code ZstdBinding.allocateSampleSizes}, {@code trainDictionary}); {@code getFrameProgression} in an
 *       automatic one ({@code ZstdBinding$FrameProgressionBuffer}). The direct-buffer streams allocate nothing
 *       themselves, and {@link ZstdOutputStream}/{@link ZstdInputStream} and lz4's block streams use heap arrays.</li>
 * </ul>
 *
 * <p>zstd's compression contexts and lz4's fast-reset stream states are allocated by the native code (malloc in C).
 *
 * <p>Arguments (optional): {@code mebibytes} of data (default 4), {@code seed} (default 7). Prints
 * {@code COMPRESS OK ...} with {@code zstd=ffm} or {@code zstd=jni} (which of zstd-jni's bindings ran: JNI when
 * multi-release jars are disabled, {@code -Djdk.util.jar.enableMultiRelease=false}), {@code programBuffers=}
 * (direct buffers this class allocated), {@code libraryBuffers=} (direct buffers zstd-jni allocated for it) and
 * {@code checked=} (bytes compared), and exits 0, or prints {@code COMPRESS FAIL ...} and exits 1.
 */
public final class CompressionDirectBuffers {
    static final int CHUNK = 256 << 10;
    private static final String[] WORDS = ("the quick brown fox jumps over a lazy dog while memory pools carve "
            + "direct buffers for native compression code that reads every byte by address").split(" ");

    private long programBuffers;
    private long libraryBuffers;
    private long checked;

    private CompressionDirectBuffers() {
    }

    public static void main(String[] args) {
        int mebibytes = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 7L;
        ProgramExit.withFailure("COMPRESS", () -> new CompressionDirectBuffers().run(mebibytes << 20, seed));
    }

    /** Half compressible text, a quarter random bytes, a quarter long runs: one array of {@code size} bytes. */
    static byte[] data(int size, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] b = new byte[size];
        int text = size / 2;
        int random = size / 4;
        StringBuilder sb = new StringBuilder(text + 32);
        while (sb.length() < text) {
            sb.append(WORDS[r.nextInt(WORDS.length)]).append(r.nextInt(8) == 0 ? ".\n" : " ");
        }
        System.arraycopy(sb.toString().getBytes(StandardCharsets.US_ASCII), 0, b, 0, text);
        for (int i = text; i < text + random; i++) {
            b[i] = (byte) r.nextInt(256);
        }
        for (int i = text + random; i < size; ) {
            int run = 1 + r.nextInt(300);
            byte v = (byte) r.nextInt(256);
            for (int k = 0; k < run && i < size; k++, i++) {
                b[i] = v;
            }
        }
        return b;
    }

    /** A direct buffer allocated here, in the program. */
    private ByteBuffer direct(int capacity) {
        programBuffers++;
        return ByteBuffer.allocateDirect(capacity);
    }

    private ByteBuffer directCopy(byte[] src, int off, int len) {
        ByteBuffer b = direct(len);
        b.put(src, off, len).flip();
        return b;
    }

    /** Null when {@code got}'s remaining bytes are exactly {@code want[off, off + len)}; else where they differ. */
    private String same(String what, byte[] want, int off, int len, ByteBuffer got) {
        if (!got.isDirect()) {
            return what + ": not a direct buffer";
        }
        if (got.remaining() != len) {
            return what + ": " + got.remaining() + " bytes, expected " + len;
        }
        int at = ByteBuffer.wrap(want, off, len).mismatch(got);
        if (at >= 0) {
            return what + ": byte " + at + " differs";
        }
        checked += len;
        return null;
    }

    String run(int size, long seed) throws IOException {
        byte[] data = data(size, seed);
        String why;
        if ((why = zstdBufferToBuffer(data)) != null
                || (why = zstdDirectStreams(data)) != null
                || (why = zstdLibraryBuffers(data)) != null
                || (why = zstdDictionary(data)) != null
                || (why = zstdHeapStreams(data)) != null
                || (why = lz4(data)) != null) {
            return why;
        }
        System.out.println("COMPRESS OK bytes=" + size + " zstd=" + zstdBinding() + " programBuffers=" + programBuffers
                + " libraryBuffers=" + libraryBuffers + " checked=" + checked);
        return null;
    }

    /** {@code "ffm"} when zstd-jni's JDK 22+ classes (FFM downcalls) are loaded, else {@code "jni"}. */
    static String zstdBinding() {
        try {
            Class.forName("com.github.luben.zstd.ZstdBinding", false, Zstd.class.getClassLoader());
            return "ffm";
        } catch (ClassNotFoundException e) {
            return "jni";
        }
    }

    /** {@code Zstd.compress(dst, src, level)} and {@code Zstd.decompress(dst, src)} on buffers allocated here. */
    private String zstdBufferToBuffer(byte[] data) {
        for (int off = 0; off < data.length; off += CHUNK) {
            int len = Math.min(CHUNK, data.length - off);
            // A read-only view: native code gets the same address through it.
            ByteBuffer src = directCopy(data, off, len).asReadOnlyBuffer();
            ByteBuffer packed = direct((int) Zstd.compressBound(len));
            int n = Zstd.compress(packed, src, 3);
            packed.flip();
            if (n != packed.remaining() || src.hasRemaining()) {
                return "Zstd.compress(dst, src) at " + off + ": returned " + n + ", dst holds " + packed.remaining();
            }
            ByteBuffer out = direct(len);
            Zstd.decompress(out, packed);
            String why = same("Zstd.decompress(dst, src) at " + off, data, off, len, out.flip());
            if (why != null) {
                return why;
            }
        }
        return null;
    }

    /** The direct-buffer streams, fed in odd-sized slices, with their buffers allocated here. */
    private String zstdDirectStreams(byte[] data) throws IOException {
        ByteBuffer all = directCopy(data, 0, data.length);
        ByteBuffer packed = direct((int) Zstd.compressBound(data.length) + 4096);
        ByteBuffer staging = direct(ZstdDirectBufferCompressingStream.recommendedOutputBufferSize());
        try (ZstdDirectBufferCompressingStream zs = new ZstdDirectBufferCompressingStream(staging, 5) {
            @Override
            protected ByteBuffer flushBuffer(ByteBuffer toFlush) {
                toFlush.flip();
                packed.put(toFlush);
                toFlush.clear();
                return toFlush;
            }
        }) {
            for (int off = 0; off < data.length; ) {
                int len = Math.min(100_003, data.length - off);
                zs.compress(all.slice(off, len));
                off += len;
            }
        }
        packed.flip();

        ByteBuffer input = direct(64 << 10);       // refilled from `packed` 64 KiB at a time
        input.limit(0);
        ByteBuffer out = direct(ZstdDirectBufferDecompressingStream.recommendedTargetBufferSize());
        int at = 0;
        try (ZstdDirectBufferDecompressingStream zd = new ZstdDirectBufferDecompressingStream(input) {
            @Override
            protected ByteBuffer refill(ByteBuffer toRefill) {
                toRefill.compact();
                int n = Math.min(toRefill.remaining(), packed.remaining());
                toRefill.put(packed.slice(packed.position(), n));
                packed.position(packed.position() + n);
                return toRefill.flip();
            }
        }) {
            while (zd.hasRemaining()) {
                out.clear();
                zd.read(out);
                out.flip();
                int n = out.remaining();
                String why = same("ZstdDirectBufferDecompressingStream at " + at, data, at, n, out);
                if (why != null) {
                    return why;
                }
                at += n;
            }
        }
        return at == data.length ? null : "ZstdDirectBufferDecompressingStream gave " + at + " of " + data.length + " bytes";
    }

    /** zstd-jni's own {@code allocateDirect}: the compressed and decompressed buffers it returns. */
    private String zstdLibraryBuffers(byte[] data) {
        try (ZstdCompressCtx ctx = new ZstdCompressCtx().setLevel(1)) {
            for (int off = 0; off < data.length; off += CHUNK) {
                int len = Math.min(CHUNK, data.length - off);
                ByteBuffer packed = ctx.compress(directCopy(data, off, len));   // allocated by ZstdCompressCtx
                ByteBuffer out = Zstd.decompress(packed, len);                   // allocated by ZstdDecompressCtx
                libraryBuffers += 2;
                if (!packed.isDirect()) {
                    return "ZstdCompressCtx.compress(ByteBuffer) returned a heap buffer";
                }
                String why = same("Zstd.decompress(ByteBuffer, int) at " + off, data, off, len, out);
                if (why != null) {
                    return why;
                }
            }
            ZstdFrameProgression p = ctx.getFrameProgression();   // a struct in an automatic arena
            if (p.getIngested() < 0 || p.getProduced() < 0) {
                return "getFrameProgression: " + p.getIngested() + " / " + p.getProduced();
            }
        }
        return null;
    }

    /** A dictionary trained by {@link ZstdDictTrainer} (direct buffers and a confined arena inside zstd-jni). */
    private String zstdDictionary(byte[] data) {
        int text = data.length / 2;
        ZstdDictTrainer trainer = new ZstdDictTrainer(text, 16 << 10);
        for (int off = 0; off + 1024 <= text; off += 1024) {
            byte[] sample = new byte[1024];
            System.arraycopy(data, off, sample, 0, sample.length);
            if (!trainer.addSample(sample)) {
                break;
            }
        }
        ByteBuffer dict = trainer.trainSamplesDirect();
        libraryBuffers += 2;       // the trainer's sample buffer and the dictionary
        if (!dict.isDirect() || dict.remaining() == 0) {
            return "trainSamplesDirect returned " + dict;
        }
        try (ZstdDictCompress dc = new ZstdDictCompress(dict, 3); ZstdDictDecompress dd = new ZstdDictDecompress(dict)) {
            for (int off = 0; off + 4096 <= text; off += 64 << 10) {
                ByteBuffer packed = Zstd.compress(directCopy(data, off, 4096), dc);
                ByteBuffer out = Zstd.decompress(packed, dd, 4096);
                libraryBuffers += 2;
                String why = same("dictionary round trip at " + off, data, off, 4096, out);
                if (why != null) {
                    return why;
                }
            }
        }
        return null;
    }

    /** {@link ZstdOutputStream}/{@link ZstdInputStream}: heap arrays inside, checked all the same. */
    private String zstdHeapStreams(byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = new ZstdOutputStream(bytes, 3)) {
            out.write(data);
        }
        return streamedBack("ZstdInputStream", data, new ZstdInputStream(new ByteArrayInputStream(bytes.toByteArray())));
    }

    private String streamedBack(String what, byte[] data, InputStream in) throws IOException {
        byte[] back;
        try (in) {
            back = in.readAllBytes();
        }
        ByteBuffer got = direct(back.length);
        got.put(back).flip();
        return same(what, data, 0, data.length, got);
    }

    /** lz4-java's JNI codecs and xxHash on buffers allocated here, and its block streams. */
    private String lz4(byte[] data) throws IOException {
        LZ4Factory jni = LZ4Factory.nativeInstance();
        LZ4SafeDecompressor safe = jni.safeDecompressor();
        LZ4FastDecompressor fast = LZ4Factory.nativeInsecureInstance().fastDecompressor();
        if (!fast.getClass().getSimpleName().startsWith("LZ4JNI")) {
            return "nativeInsecureInstance().fastDecompressor() is " + fast + ", not the JNI one";
        }
        LZ4Compressor[] compressors = {jni.fastCompressor(), jni.highCompressor(9)};
        for (LZ4Compressor c : compressors) {
            if (!c.getClass().getSimpleName().contains("JNI")) {
                return "LZ4Factory.nativeInstance() gave " + c + ", not a JNI compressor";
            }
        }
        LZ4JNIFastResetCompressor reset = jni.fastResetCompressor();     // a native LZ4_stream_t, malloc'd in C
        try {
            for (int off = 0, i = 0; off < data.length; off += CHUNK, i++) {
                int len = Math.min(CHUNK, data.length - off);
                ByteBuffer src = directCopy(data, off, len).asReadOnlyBuffer();
                ByteBuffer packed = direct(jni.fastCompressor().maxCompressedLength(len));
                if (i % 3 < 2) {
                    compressors[i % 3].compress(src, packed);
                } else {
                    reset.compress(src, packed);
                }
                packed.flip();
                ByteBuffer out = direct(len);
                safe.decompress(packed.duplicate(), out);
                String why = same("LZ4SafeDecompressor at " + off, data, off, len, out.flip());
                if (why != null) {
                    return why;
                }
                out.clear();
                fast.decompress(packed.duplicate(), out);
                why = same("LZ4FastDecompressor (JNI) at " + off, data, off, len, out.flip());
                if (why != null) {
                    return why;
                }
                int h = XXHashFactory.nativeInstance().hash32().hash(src.rewind(), 0x9747b28c);
                int want = XXHashFactory.safeInstance().hash32().hash(data, off, len, 0x9747b28c);
                if (h != want) {
                    return "xxHash32 (JNI) of the direct buffer at " + off + ": " + h + ", expected " + want;
                }
            }
        } finally {
            reset.close();
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (LZ4BlockOutputStream out = new LZ4BlockOutputStream(bytes, 64 << 10, jni.fastCompressor())) {
            out.write(data);
        }
        return streamedBack("LZ4BlockInputStream", data, 
                LZ4BlockInputStream.newBuilder().withDecompressor(safe).build(new ByteArrayInputStream(bytes.toByteArray())));
    }
}
