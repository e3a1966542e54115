package io.jvmem.allocator;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A type for typed allocations, like FreeBSD's MALLOC_DEFINE: allocations made with a tag are counted per tag
 * (bytes in use, requests, high-water mark) in {@link PoolStats#tags()}. Tags are process-wide and cheap: an
 * allocation carries only the tag's 16-bit id. Defining the same name twice returns the same tag.
 */
public final class AllocationTag {
    /** The tag of allocations made without one. */
    public static final AllocationTag UNTAGGED = new AllocationTag(0, "untagged", "allocations made without a tag");
    static final int MAX_TAGS = 1 << 16;
    /** Tag that absorbs definitions beyond the 65535th. */
    private static final String OVERFLOW_NAME = "(other tags)";

    private static final ConcurrentHashMap<String, AllocationTag> BY_NAME = new ConcurrentHashMap<>();
    private static final AllocationTag[] BY_ID = new AllocationTag[MAX_TAGS];
    private static final AtomicInteger NEXT = new AtomicInteger(1);

    static {
        BY_ID[0] = UNTAGGED;
        BY_NAME.put(UNTAGGED.name, UNTAGGED);
    }

    private final int id;
    private final String name;
    private final String description;

    private AllocationTag(int id, String name, String description) {
        this.id = id;
        this.name = name;
        this.description = description;
    }

    public static AllocationTag define(String name) {
        return define(name, name);
    }

    public static AllocationTag define(String name, String description) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("tag name must not be empty");
        }
        AllocationTag t = BY_NAME.get(name);
        if (t != null) {
            return t;
        }
        synchronized (BY_NAME) { // not computeIfAbsent with a lambda: its bootstrap costs an agent's start-up
            t = BY_NAME.get(name);
            if (t == null) {
                int id = NEXT.getAndIncrement();
                t = id < MAX_TAGS - 1 ? register(id, name, description) : overflow();
                BY_NAME.put(name, t);
            }
            return t;
        }
    }

    /** The tag of every definition beyond the limit; the caller holds BY_NAME's lock. */
    private static AllocationTag overflow() {
        AllocationTag o = BY_NAME.get(OVERFLOW_NAME);
        if (o == null) {
            o = register(MAX_TAGS - 1, OVERFLOW_NAME, "tags defined beyond the limit");
            BY_NAME.put(OVERFLOW_NAME, o);
        }
        return o;
    }

    private static AllocationTag register(int id, String name, String description) {
        AllocationTag t = new AllocationTag(id, name, description);
        BY_ID[id] = t;
        return t;
    }

    static AllocationTag byId(int id) {
        AllocationTag t = BY_ID[id];
        return t == null ? UNTAGGED : t;
    }

    public int id() {
        return id;
    }

    public String name() {
        return name;
    }

    public String description() {
        return description;
    }

    @Override
    public String toString() {
        return "AllocationTag[" + name + "]";
    }
}
