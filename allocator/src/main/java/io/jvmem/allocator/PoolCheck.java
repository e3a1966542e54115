package io.jvmem.allocator;

import java.util.List;

/** Result of {@link MemoryPool#check()}: vmem_check's 1 / 0 / -1, with the problems found. */
public record PoolCheck(Status status, List<String> problems) {
    public enum Status { CONSISTENT, INCONSISTENT, NOT_CHECKED }

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
