package io.jvmem.allocator;

import java.util.List;

/**
 * Result of {@link MemoryPool#check()} and {@link CtoPool#check}: vmem_check's 1 / 0 / -1, with the problems found.
 * {@code reason} says why a check could not run ({@link Status#NOT_CHECKED}); it is {@link PoolErrorReason#NONE}
 * otherwise.
 */
public record PoolCheck(Status status, List<String> problems, PoolErrorReason reason) {
    public enum Status { CONSISTENT, INCONSISTENT, NOT_CHECKED }

    /** A check that ran, or that could not run for no particular reason. */
    public PoolCheck(Status status, List<String> problems) {
        this(status, problems, PoolErrorReason.NONE);
    }

    public boolean consistent() {
        return status == Status.CONSISTENT;
    }

    /** vmem_check's return value: 1 consistent, 0 inconsistent, -1 could not check. */
    public int code() {
        return switch (status) {
            case CONSISTENT -> 1;
            case INCONSISTENT -> 0;
            case NOT_CHECKED -> -1;
        };
    }
}
