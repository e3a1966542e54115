package io.jvmem.it;

import io.netty.buffer.ByteBufAllocator;
import io.netty.util.Version;
import io.netty.util.internal.PlatformDependent;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

/**
 * {@link NettyEcho}'s echo over Netty's default allocator, {@code ByteBufAllocator.DEFAULT}, as an application that
 * changes nothing would run it (meant for Netty 4.2, whose default is the adaptive pooling allocator with direct
 * buffers). Netty's own account of the direct memory it took is read from its JFR events: Netty 4.2's allocators
 * emit {@code io.netty.AllocateChunk} / {@code io.netty.FreeChunk} (capacity, direct, address) for every chunk they
 * get from or give back to the platform, pooled or not. A JFR recording of just those two events runs around the
 * echo and is left in {@code netty-chunks.jfr} in the working directory.
 *
 * <p>Which chunks a memory pool served is told by their addresses: a chunk whose address lies in a mapping of a file
 * in {@code poolDir} (the pool's directory; its file is unlinked, so the mapping reads {@code "<poolDir>/... (deleted)"}
 * in {@code /proc/self/maps}) is pool memory. That needs nothing from the pool's side.
 *
 * <p>Arguments (all optional): {@code smallBytes} (default 16 MiB), {@code seed}, {@code hugeMessages},
 * {@code hugeSize} as {@link NettyEcho}, then {@code poolDir} (none: no chunk counts as pool memory). Prints the echo's
 * {@code ECHO OK ...} line, then {@code NETTY DIRECT version=<netty-common version> cleaner=<class of
 * PlatformDependent's cleaner> unsafe=<bool> chunks=N chunkBytes=B poolChunks=N poolChunkBytes=B noAddress=N
 * freedChunks=N freedBytes=B largestChunk=B nettyUsedAtEnd=B}, counting direct chunks only ({@code noAddress}: chunks
 * whose event carried no address); exits 0. Fails (exit 1) if the echo fails or Netty reported no direct chunk.
 */
public final class NettyDefaultEcho {
    static final String ALLOCATE_CHUNK = "io.netty.AllocateChunk";
    static final String FREE_CHUNK = "io.netty.FreeChunk";

    public static void main(String[] args) {
        long smallBytes = args.length > 0 ? Long.parseLong(args[0]) : 16L << 20;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 42L;
        int hugeMessages = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int hugeSize = args.length > 3 ? Integer.parseInt(args[3]) : NettyEcho.DEFAULT_HUGE;
        String poolDir = args.length > 4 ? args[4] : null;
        ProgramExit.withCode("ECHO", () -> run(smallBytes, seed, hugeMessages, hugeSize, poolDir));
    }

    static int run(long smallBytes, long seed, int hugeMessages, int hugeSize, String poolDir) throws Exception {
        Path jfr = Path.of("netty-chunks.jfr").toAbsolutePath();
        int code;
        long nettyUsedAtEnd;
        try (Recording recording = new Recording()) {
            recording.enable(ALLOCATE_CHUNK);
            recording.enable(FREE_CHUNK);
            recording.start();
            code = NettyEcho.run(ByteBufAllocator.DEFAULT, smallBytes, seed, hugeMessages, hugeSize);
            nettyUsedAtEnd = PlatformDependent.usedDirectMemory();
            recording.stop();
            recording.dump(jfr);
        }
        if (code != 0) {
            return code;
        }
        List<long[]> pool = poolDir == null ? List.of() : mappingsOf(Path.of(poolDir).toAbsolutePath());
        List<RecordedEvent> events = RecordingFile.readAllEvents(jfr);
        NettyChunks c = NettyChunks.tally(events, ALLOCATE_CHUNK, FREE_CHUNK, pool);
        if (c.chunks() == 0) {
            System.out.println("ECHO FAIL Netty reported no direct chunk (" + events.size() + " events in " + jfr
                    + "): not Netty 4.2, or its JFR events are off");
            return 1;
        }
        System.out.println("NETTY DIRECT version=" + Version.identify().get("netty-common").artifactVersion()
                + " cleaner=" + cleanerName()
                + " unsafe=" + PlatformDependent.hasUnsafe()
                + c.fields() + " nettyUsedAtEnd=" + nettyUsedAtEnd);
        return 0;
    }

    /** {@code [start, end)} of every mapping of a file in {@code dir}, from {@code /proc/self/maps}. */
    static List<long[]> mappingsOf(Path dir) throws IOException {
        String prefix = dir + "/";
        List<long[]> ranges = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            // start-end perms offset dev inode path
            String[] f = line.trim().split("\\s+", 6);
            if (f.length == 6 && f[5].startsWith(prefix)) {
                int dash = f[0].indexOf('-');
                ranges.add(new long[] {Long.parseUnsignedLong(f[0].substring(0, dash), 16),
                        Long.parseUnsignedLong(f[0].substring(dash + 1), 16)});
            }
        }
        return ranges;
    }

    static boolean within(List<long[]> ranges, long address, long size) {
        for (long[] r : ranges) {
            if (address >= r[0] && address + size <= r[1]) {
                return true;
            }
        }
        return false;
    }

    /** The simple name of the class Netty chose to allocate and free its direct memory with. */
    private static String cleanerName() throws ReflectiveOperationException {
        Field f = PlatformDependent.class.getDeclaredField("CLEANER");
        f.setAccessible(true);
        return f.get(null).getClass().getSimpleName();
    }
}
