package io.jvmem.agent;

/**
 * A route as seen by JMX ({@code io.jvmem:type=Route,name=<route>}, registered in the background once the agent has
 * started). Counts and bytes are those of the report's {@code routes}; thread-safe.
 */
public interface RouteMXBean {
    String getName();

    String getPool();

    String[] getInclude();

    String[] getExclude();

    /** The kinds of allocation the route takes ({@code allocateDirect}, {@code allocateMemory}, …). */
    String[] getCalls();

    /** Blocks the pool served through the route's sites. */
    long getAllocations();

    /** Usable bytes served in all. */
    long getBytes();

    /** Bytes still in use. */
    long getInUse();

    /** Requests the full pool sent to the JDK, and their bytes. */
    long getFallbacks();

    long getFallbackBytes();

    /** Requests refused with OutOfMemoryError ({@code on-exhausted=fail}). */
    long getFailures();

    /** Requests below {@code min-size} left to the JDK. */
    long getBelowMinSize();

    /** Off-heap access in the route's classes that the agent does not route, as {@code where (seen n)}. */
    String[] getUnrouted();
}
