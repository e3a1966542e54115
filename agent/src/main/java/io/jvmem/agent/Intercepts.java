package io.jvmem.agent;

import io.jvmem.agent.AgentConfig.Call;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The rewriting rules as data: one row per intercepted member, with what is done to a call of it and the bridge
 * method that takes its place. {@link CallSiteRewriter} applies the rows to instructions, method references and
 * handle constants; {@link HandleRoutes} applies the same rows to handles and {@code Method}s obtained at run time.
 *
 * <p>Owners and descriptors are JVM internal names. {@code call} is the route's {@code calls} value that must be
 * present for a row to route an allocation; rows with {@link Action#POOL_AWARE} and the reflective rows apply in
 * every application class (with site 0 outside any route), so a pool address never reaches free(3).
 */
final class Intercepts {
    static final String BRIDGE = "java/nio/JvmemBridge";
    static final String REFLECT = "java/nio/JvmemReflect";
    static final String BYTE_BUFFER = "java/nio/ByteBuffer";
    static final String MAPPED_BYTE_BUFFER = "java/nio/MappedByteBuffer";
    static final String SUN_UNSAFE = "sun/misc/Unsafe";
    static final String INTERNAL_UNSAFE = "jdk/internal/misc/Unsafe";
    static final String ARENA = "java/lang/foreign/Arena";
    static final String ALLOCATOR = "java/lang/foreign/SegmentAllocator";
    static final String LOOKUP = "java/lang/invoke/MethodHandles$Lookup";
    static final String METHOD = "java/lang/reflect/Method";
    static final String LINKER = "java/lang/foreign/Linker";

    /** What a call of the member becomes. */
    enum Action {
        /** Selected classes whose route has {@code call}: {@code invokestatic bridge(receiver?, args..., int site)}. */
        ROUTE,
        /**
         * Every class: {@code invokestatic bridge(receiver, args...)}, pool-aware; where the route has {@code call},
         * the site-taking variant {@code bridge(receiver, args..., int site)} instead.
         */
        POOL_AWARE,
        /** Selected classes whose route has {@code arena}: the receiver passes through {@code bridge(receiver, site)}. */
        ARENA,
        /** Every class: {@code invokestatic JvmemReflect.<bridge>(receiver, args..., int site)} (0 outside routes). */
        LOOKUP,
        /** Every class: {@code Method.invoke}'s method and receiver pass through the bridge (the call stays the caller's). */
        INVOKE,
        /** Every class: the handle {@code Linker.downcallHandle} returns passes through the bridge. */
        DOWNCALL
    }

    /** One intercepted member. {@code bridgeDesc} is the site-less bridge descriptor (null where none exists). */
    record Row(int index, String owner, String name, String desc, boolean isStatic, Action action, Call call,
               String bridge, String bridgeDesc) {
        String key() {
            return owner + "." + name + desc;
        }
    }

    private static final List<Row> ROWS = new ArrayList<>();
    private static final Map<String, Row> BY_KEY = new HashMap<>();

    private static void row(String owner, String name, String desc, boolean isStatic, Action action, Call call,
                            String bridge, String bridgeDesc) {
        Row r = new Row(ROWS.size(), owner, name, desc, isStatic, action, call, bridge, bridgeDesc);
        ROWS.add(r);
        BY_KEY.put(r.key(), r);
    }

    /** SegmentAllocator's allocation methods (JDK 22 to 25), inherited by Arena; all funnel into allocate(long, long). */
    static final String[][] ALLOCATE_FAMILY = {
            {"allocate", "(JJ)Ljava/lang/foreign/MemorySegment;"},
            {"allocate", "(J)Ljava/lang/foreign/MemorySegment;"},
            {"allocate", "(Ljava/lang/foreign/MemoryLayout;)Ljava/lang/foreign/MemorySegment;"},
            {"allocate", "(Ljava/lang/foreign/MemoryLayout;J)Ljava/lang/foreign/MemorySegment;"},
            {"allocateFrom", "(Ljava/lang/String;)Ljava/lang/foreign/MemorySegment;"},
            {"allocateFrom", "(Ljava/lang/String;Ljava/nio/charset/Charset;)Ljava/lang/foreign/MemorySegment;"},
            {"allocateFrom", "(Ljava/lang/foreign/ValueLayout$OfByte;B)Ljava/lang/foreign/MemorySegment;"},
            {"allocateFrom", "(Ljava/lang/foreign/ValueLayout$OfChar;C)Ljava/lang/foreign/MemorySegment;"},
            {"allocateFrom", "(Ljava/lang/foreign/ValueLayout$OfShort;S)Ljava/lang/foreign/MemorySegment;"},
            {"allocateFrom", "(Ljava/lang/foreign/ValueLayout$OfInt;I)Ljava/lang/foreign/MemorySegment;"},
            {"allocateFrom", "(Ljava/lang/foreign/ValueLayout$OfFloat;F)Ljava/lang/foreign/MemorySegment;"},
            {"allocateFrom", "(Ljava/lang/foreign/ValueLayout$OfLong;J)Ljava/lang/foreign/MemorySegment;"},
            {"allocateFrom", "(Ljava/lang/foreign/ValueLayout$OfDouble;D)Ljava/lang/foreign/MemorySegment;"},
            {"allocateFrom", "(Ljava/lang/foreign/AddressLayout;Ljava/lang/foreign/MemorySegment;)Ljava/lang/foreign/MemorySegment;"},
            {"allocateFrom", "(Ljava/lang/foreign/ValueLayout;Ljava/lang/foreign/MemorySegment;Ljava/lang/foreign/ValueLayout;JJ)Ljava/lang/foreign/MemorySegment;"},
            {"allocateFrom", "(Ljava/lang/foreign/ValueLayout$OfByte;[B)Ljava/lang/foreign/MemorySegment;"},
            {"allocateFrom", "(Ljava/lang/foreign/ValueLayout$OfShort;[S)Ljava/lang/foreign/MemorySegment;"},
            {"allocateFrom", "(Ljava/lang/foreign/ValueLayout$OfChar;[C)Ljava/lang/foreign/MemorySegment;"},
            {"allocateFrom", "(Ljava/lang/foreign/ValueLayout$OfInt;[I)Ljava/lang/foreign/MemorySegment;"},
            {"allocateFrom", "(Ljava/lang/foreign/ValueLayout$OfFloat;[F)Ljava/lang/foreign/MemorySegment;"},
            {"allocateFrom", "(Ljava/lang/foreign/ValueLayout$OfLong;[J)Ljava/lang/foreign/MemorySegment;"},
            {"allocateFrom", "(Ljava/lang/foreign/ValueLayout$OfDouble;[D)Ljava/lang/foreign/MemorySegment;"},
    };

    /** The allocate members that are routed by a static bridge call {@code arenaAllocate(SegmentAllocator, ..., site)}. */
    static final java.util.Set<String> STATIC_ARENA_MEMBERS = java.util.Set.of(
            "allocate(J)Ljava/lang/foreign/MemorySegment;",
            "allocate(JJ)Ljava/lang/foreign/MemorySegment;",
            "allocate(Ljava/lang/foreign/MemoryLayout;)Ljava/lang/foreign/MemorySegment;",
            "allocate(Ljava/lang/foreign/MemoryLayout;J)Ljava/lang/foreign/MemorySegment;");

    static {
        String bb = "(I)Ljava/nio/ByteBuffer;";
        for (String owner : new String[] {BYTE_BUFFER, MAPPED_BYTE_BUFFER}) {
            row(owner, "allocateDirect", bb, true, Action.ROUTE, Call.ALLOCATE_DIRECT, "allocateDirect", null);
        }
        for (String u : new String[] {SUN_UNSAFE, INTERNAL_UNSAFE}) {
            row(u, "allocateMemory", "(J)J", false, Action.ROUTE, Call.ALLOCATE_MEMORY, "allocateMemory", null);
            row(u, "reallocateMemory", "(JJ)J", false, Action.POOL_AWARE, Call.ALLOCATE_MEMORY, "reallocateMemory",
                    "(L" + u + ";JJ)J");
            row(u, "freeMemory", "(J)V", false, Action.POOL_AWARE, null, "freeMemory", "(L" + u + ";J)V");
        }
        for (String owner : new String[] {ARENA, ALLOCATOR}) {
            for (String[] m : ALLOCATE_FAMILY) {
                if (STATIC_ARENA_MEMBERS.contains(m[0] + m[1])) { // hot: a static bridge call, no wrapper object
                    row(owner, m[0], m[1], false, Action.ROUTE, Call.ARENA, "arenaAllocate", null);
                } else {
                    row(owner, m[0], m[1], false, Action.ARENA, Call.ARENA,
                            owner.equals(ARENA) ? "routeArena" : "routeAllocator", null);
                }
            }
        }
        String mh = "Ljava/lang/invoke/MethodHandle;";
        String cls = "Ljava/lang/Class;";
        String type = "Ljava/lang/invoke/MethodType;";
        String str = "Ljava/lang/String;";
        String opts = "[Ljava/lang/invoke/MethodHandles$Lookup$ClassOption;";
        row(LOOKUP, "findStatic", "(" + cls + str + type + ")" + mh, false, Action.LOOKUP, null, "findStatic", null);
        row(LOOKUP, "findVirtual", "(" + cls + str + type + ")" + mh, false, Action.LOOKUP, null, "findVirtual", null);
        row(LOOKUP, "findSpecial", "(" + cls + str + type + cls + ")" + mh, false, Action.LOOKUP, null, "findSpecial", null);
        row(LOOKUP, "bind", "(Ljava/lang/Object;" + str + type + ")" + mh, false, Action.LOOKUP, null, "bind", null);
        row(LOOKUP, "unreflect", "(Ljava/lang/reflect/Method;)" + mh, false, Action.LOOKUP, null, "unreflect", null);
        row(LOOKUP, "unreflectSpecial", "(Ljava/lang/reflect/Method;" + cls + ")" + mh, false, Action.LOOKUP, null,
                "unreflectSpecial", null);
        row(LOOKUP, "defineHiddenClass", "([BZ" + opts + ")L" + LOOKUP + ";", false, Action.LOOKUP, null,
                "defineHiddenClass", null);
        row(LOOKUP, "defineHiddenClassWithClassData", "([BLjava/lang/Object;Z" + opts + ")L" + LOOKUP + ";", false,
                Action.LOOKUP, null, "defineHiddenClassWithClassData", null);
        row(METHOD, "invoke", "(Ljava/lang/Object;[Ljava/lang/Object;)Ljava/lang/Object;", false, Action.INVOKE, null,
                "invoke", null);
        String fd = "Ljava/lang/foreign/FunctionDescriptor;";
        String lo = "[Ljava/lang/foreign/Linker$Option;";
        row(LINKER, "downcallHandle", "(Ljava/lang/foreign/MemorySegment;" + fd + lo + ")" + mh, false, Action.DOWNCALL,
                Call.DOWNCALL, "downcall", null);
        row(LINKER, "downcallHandle", "(" + fd + lo + ")" + mh, false, Action.DOWNCALL, Call.DOWNCALL, "downcall", null);
    }

    private Intercepts() {
    }

    /** The row for a member named in a class file, or null. */
    static Row find(String owner, String name, String desc) {
        return BY_KEY.get(owner + "." + name + desc);
    }

    static Row row(int index) {
        return ROWS.get(index);
    }

    static List<Row> rows() {
        return java.util.Collections.unmodifiableList(ROWS);
    }

    /**
     * Strings whose presence as a CONSTANT_Utf8 lets a class be skipped cheaply: a class containing none of the
     * member names cannot call an intercepted member. Derived from the rows.
     */
    static List<String> memberNames() {
        List<String> names = new ArrayList<>();
        for (Row r : ROWS) {
            if (!names.contains(r.name())) {
                names.add(r.name());
            }
        }
        return names;
    }
}
