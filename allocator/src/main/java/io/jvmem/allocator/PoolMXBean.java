package io.jvmem.allocator;

import java.util.Map;

/**
 * A pool as seen by JMX ({@code io.jvmem:type=Pool,name=<pool>}, registered on the platform MBean server when the pool
 * is created or opened, unregistered when it is closed). Sizes are bytes. Attributes read after the pool closed give
 * its last values. Thread-safe; reads within 100 ms share one statistics snapshot, so a client reading every attribute
 * costs one snapshot.
 */
public interface PoolMXBean {
    String getName();

    /** {@code volatile} or {@code cto}. */
    String getKind();

    /** The directory, device, region or pool file. */
    String getPath();

    /** Bytes mapped for the pool. */
    long getSize();

    /** Bytes of heap that can be handed out. */
    long getUsable();

    /** Usable bytes of live blocks. */
    long getInUse();

    /** High-water mark of {@link #getInUse()}. */
    long getPeak();

    /** Blocks served since the pool was created or opened. */
    long getAllocations();

    long getFrees();

    /** Requests the pool could not serve that went to the JDK (counted by the agent; 0 for a library pool). */
    long getFallbacks();

    /** Bytes of free pages returned to the file system so far. */
    long getPurgedBytes();

    /** Resident pages of the mapping per NUMA node ({@code N0}, {@code N1}, …) from /proc/self/numa_maps; empty if unknown. */
    Map<String, Long> getNumaPages();

    /** Whether the pool is still open. */
    boolean isOpen();

    /** {@link MemoryPool#check()}: {@code CONSISTENT}, or the status followed by the problems, one per line. */
    String check();

    /** {@link MemoryPool#statsPrint(String)}: jemalloc option letters, {@code J} for JSON. */
    String statsPrint(String opts);
}
