package io.jvmem.it;

import java.util.List;
import jdk.jfr.consumer.RecordedEvent;

/**
 * Netty's direct chunks as its own JFR events report them ({@code AllocateChunk}/{@code FreeChunk}, under Netty's
 * package or a shaded one), and which of them lie in the pool's mappings: the figures of the programs' {@code NETTY
 * DIRECT} lines, for {@link NettyDefaultEcho} and {@link GrpcEcho}.
 */
record NettyChunks(long chunks, long chunkBytes, long poolChunks, long poolChunkBytes, long noAddress, long freedChunks,
                   long freedBytes, long largest) {

    /** Counts the direct chunk events named {@code allocate} and {@code free} (others, jvmem's among them, are skipped). */
    static NettyChunks tally(List<RecordedEvent> events, String allocate, String free, List<long[]> pool) {
        long chunks = 0;
        long chunkBytes = 0;
        long poolChunks = 0;
        long poolChunkBytes = 0;
        long noAddress = 0;
        long freedChunks = 0;
        long freedBytes = 0;
        long largest = 0;
        for (RecordedEvent e : events) {
            String type = e.getEventType().getName();
            if (!allocate.equals(type) && !free.equals(type) || !e.getBoolean("direct")) {
                continue;
            }
            long capacity = e.getInt("capacity");
            if (allocate.equals(type)) {
                chunks++;
                chunkBytes += capacity;
                largest = Math.max(largest, capacity);
                long address = e.getLong("address");
                if (address == 0) {
                    noAddress++;
                } else if (NettyDefaultEcho.within(pool, address, capacity)) {
                    poolChunks++;
                    poolChunkBytes += capacity;
                }
            } else {
                freedChunks++;
                freedBytes += capacity;
            }
        }
        return new NettyChunks(chunks, chunkBytes, poolChunks, poolChunkBytes, noAddress, freedChunks, freedBytes, largest);
    }

    /** The OK line's fields, {@code " chunks=… largestChunk=…"}. */
    String fields() {
        return " chunks=" + chunks + " chunkBytes=" + chunkBytes
                + " poolChunks=" + poolChunks + " poolChunkBytes=" + poolChunkBytes + " noAddress=" + noAddress
                + " freedChunks=" + freedChunks + " freedBytes=" + freedBytes + " largestChunk=" + largest;
    }
}
