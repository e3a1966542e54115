package io.jvmem.agent;

import io.jvmem.agent.AgentConfig.Call;
import io.jvmem.agent.Intercepts.Action;
import io.jvmem.agent.Intercepts.Row;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.ConstantDynamic;
import org.objectweb.asm.Handle;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;

/**
 * Rewrites the off-heap call sites of one class to the bridge ({@code java.nio.JvmemBridge}, {@code JvmemReflect}),
 * following the rows of {@link Intercepts}.
 *
 * <ul>
 *   <li>Calls: {@code ROUTE} rows become bridge calls with the call site's id pushed as an extra int argument;
 *   {@code POOL_AWARE} rows (Unsafe free/realloc) become pool-aware bridge calls in every class; {@code ARENA} rows
 *   keep the call but pass its receiver through the bridge, which answers a routing arena for a JDK arena; the
 *   reflective rows ({@code Lookup.find*}/{@code unreflect*}/{@code bind}/{@code defineHiddenClass*},
 *   {@code Method.invoke}, {@code Linker.downcallHandle}) pass their result, method or receiver through the bridge.
 *   {@code Method.invoke} and {@code downcallHandle} are caller-sensitive, so they stay in the caller.</li>
 *   <li>Method references (a {@code LambdaMetafactory} invokedynamic): the site id becomes one more captured
 *   argument, or the captured receiver passes through the bridge; no method is added to the class (retransformation
 *   forbids that).</li>
 *   <li>Handle constants: pool-aware rows are replaced by the bridge's static handle; routed rows in selected classes
 *   pass through {@code JvmemReflect.constant}.</li>
 *   <li>A shape a selected class uses that cannot be routed (a serializable method reference, a handle in another
 *   bootstrap's arguments) is reported through {@link SiteRegistrar#unrouted}.</li>
 * </ul>
 *
 * <p>Only instructions change, in straight-line sequences: arguments spilled to fresh locals above the method's own
 * are reloaded at once, so every stack map frame stays valid and the writer copies the constant pool
 * ({@code new ClassWriter(reader, 0)}).
 */
final class CallSiteRewriter {
    static final String BRIDGE = Intercepts.BRIDGE;
    private static final String LMF = "java/lang/invoke/LambdaMetafactory";
    private static final int FLAG_SERIALIZABLE = 1;
    private static final String SERIALIZED_LAMBDA = "Ljava/lang/invoke/SerializedLambda;";
    private static final String DESERIALIZE_LAMBDA = "(" + SERIALIZED_LAMBDA + ")Ljava/lang/Object;";

    /** Registers sites and unroutable shapes. */
    interface SiteRegistrar {
        int register(String siteName, String call, Route route);

        default void unrouted(String className, String way, Route route) {
        }
    }

    private CallSiteRewriter() {
    }

    private static final byte[][] NAMES;
    private static final byte[][] OWNERS;
    private static final int[] OWNER_OF_ROW_NAME_PAIR;

    static {
        List<String> names = Intercepts.memberNames();
        List<String> owners = new java.util.ArrayList<>();
        for (Row r : Intercepts.rows()) {
            if (!owners.contains(r.owner())) {
                owners.add(r.owner());
            }
        }
        // plain loops, no streams: this runs when the first class loads, and lambdas cost start-up
        NAMES = ascii(names);
        OWNERS = ascii(owners);
        OWNER_OF_ROW_NAME_PAIR = new int[Intercepts.rows().size() * 2];
        int i = 0;
        for (Row r : Intercepts.rows()) {
            OWNER_OF_ROW_NAME_PAIR[i++] = owners.indexOf(r.owner());
            OWNER_OF_ROW_NAME_PAIR[i++] = names.indexOf(r.name());
        }
    }

    /**
     * Whether the constant pool names an intercepted member's owner and name (as CONSTANT_Utf8 entries): the cheap test
     * that lets most classes pass without being parsed.
     */
    static boolean mentionsTargets(ClassReader reader, byte[] bytes) {
        long owners = 0;
        long names = 0;
        for (int i = 1; i < reader.getItemCount(); i++) {
            int offset = reader.getItem(i);
            if (offset == 0 || bytes[offset - 1] != 1) { // CONSTANT_Utf8
                continue;
            }
            int length = reader.readUnsignedShort(offset);
            owners |= match(OWNERS, bytes, offset + 2, length);
            names |= match(NAMES, bytes, offset + 2, length);
        }
        if (owners == 0 || names == 0) {
            return false;
        }
        for (int i = 0; i < OWNER_OF_ROW_NAME_PAIR.length; i += 2) {
            if ((owners & 1L << OWNER_OF_ROW_NAME_PAIR[i]) != 0 && (names & 1L << OWNER_OF_ROW_NAME_PAIR[i + 1]) != 0) {
                return true;
            }
        }
        return false;
    }

    private static byte[][] ascii(List<String> strings) {
        byte[][] out = new byte[strings.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = strings.get(i).getBytes(StandardCharsets.US_ASCII);
        }
        return out;
    }

    private static long match(byte[][] candidates, byte[] bytes, int from, int length) {
        for (int c = 0; c < candidates.length; c++) {
            byte[] s = candidates[c];
            if (length == s.length && java.util.Arrays.equals(bytes, from, from + length, s, 0, length)) {
                return 1L << c;
            }
        }
        return 0;
    }

    /**
     * Returns the rewritten class, or null when nothing changed (the class then loads byte-identical).
     * {@code route} is null for a class no route selects.
     */
    static byte[] rewrite(byte[] bytes, Route route, SiteRegistrar sites) {
        ClassReader reader = new ClassReader(bytes);
        if (!mentionsTargets(reader, bytes)) {
            return null;
        }
        Scan scan = scan(reader);
        ClassWriter writer = new ClassWriter(reader, 0);
        ClassRewriter cv = new ClassRewriter(writer, route, sites, scan.maxLocals(), scan.poolAwareSerializable());
        reader.accept(cv, 0);
        return cv.changed ? writer.toByteArray() : null;
    }

    /**
     * What the rewrite needs to know of the whole class first: each method's max_locals (spilled arguments go above
     * them), and whether a serializable method reference names a pool-aware member, whose re-creation the class's
     * {@code $deserializeLambda$} must then be told about before its first instruction.
     */
    private record Scan(Map<String, Integer> maxLocals, boolean poolAwareSerializable) {
    }

    private static Scan scan(ClassReader reader) {
        Map<String, Integer> maxLocals = new HashMap<>();
        boolean[] poolAwareSerializable = new boolean[1];
        reader.accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature, String[] exceptions) {
                return new MethodVisitor(Opcodes.ASM9) {
                    @Override
                    public void visitInvokeDynamicInsn(String n, String d, Handle bsm, Object... args) {
                        if (serializableLambda(bsm, args) && poolAware((Handle) args[1]) != null) {
                            poolAwareSerializable[0] = true;
                        }
                    }

                    @Override
                    public void visitMaxs(int maxStack, int locals) {
                        maxLocals.put(name + descriptor, locals);
                    }
                };
            }
        }, ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
        return new Scan(maxLocals, poolAwareSerializable[0]);
    }

    private static boolean lambda(Handle bsm, Object[] args) {
        return bsm.getOwner().equals(LMF) && args.length >= 3 && args[1] instanceof Handle;
    }

    private static boolean serializableLambda(Handle bsm, Object[] args) {
        return lambda(bsm, args) && bsm.getName().equals("altMetafactory") && args.length > 3
                && args[3] instanceof Integer flags && (flags & FLAG_SERIALIZABLE) != 0;
    }

    private static final class ClassRewriter extends ClassVisitor {
        private final Route route;
        private final SiteRegistrar sites;
        private final Map<String, Integer> maxLocals;
        private final boolean restoreLambdas;
        private String className;
        private String internalName;
        private String source;
        boolean changed;

        ClassRewriter(ClassVisitor cv, Route route, SiteRegistrar sites, Map<String, Integer> maxLocals,
                      boolean restoreLambdas) {
            super(Opcodes.ASM9, cv);
            this.route = route;
            this.sites = sites;
            this.maxLocals = maxLocals;
            this.restoreLambdas = restoreLambdas;
        }

        @Override
        public void visit(int version, int access, String name, String signature, String superName, String[] interfaces) {
            this.className = name.replace('/', '.');
            this.internalName = name;
            super.visit(version, access, name, signature, superName, interfaces);
        }

        @Override
        public void visitSource(String source, String debug) {
            this.source = source;
            super.visitSource(source, debug);
        }

        @Override
        public MethodVisitor visitMethod(int access, String name, String descriptor, String signature, String[] exceptions) {
            MethodVisitor mv = super.visitMethod(access, name, descriptor, signature, exceptions);
            if (mv != null && restoreLambdas && name.equals("$deserializeLambda$") && (access & Opcodes.ACC_STATIC) != 0
                    && descriptor.equals(DESERIALIZE_LAMBDA)) {
                mv = new LambdaRestorer(mv);
            }
            return mv == null ? null : new MethodRewriter(mv, name, maxLocals.getOrDefault(name + descriptor, 0));
        }

        /**
         * Prepends to {@code $deserializeLambda$}: {@code lambda = JvmemBridge.restoreLambda(lambda, ThisClass.class)}, so a
         * serialized method reference that the rewriter made pool-aware is named again by its member in the source
         * before javac's checks read it. Straight-line code on the argument's own local: no frame changes.
         */
        private final class LambdaRestorer extends MethodVisitor {
            LambdaRestorer(MethodVisitor mv) {
                super(Opcodes.ASM9, mv);
            }

            @Override
            public void visitCode() {
                super.visitCode();
                super.visitVarInsn(Opcodes.ALOAD, 0);
                super.visitLdcInsn(Type.getObjectType(internalName));
                super.visitMethodInsn(Opcodes.INVOKESTATIC, BRIDGE, "restoreLambda", "(" + SERIALIZED_LAMBDA
                        + "Ljava/lang/Class;)" + SERIALIZED_LAMBDA, false);
                super.visitVarInsn(Opcodes.ASTORE, 0);
                changed = true;
            }

            @Override
            public void visitMaxs(int maxStack, int maxLocals) {
                super.visitMaxs(Math.max(maxStack, 2), maxLocals);
            }
        }

        /** Whether this class's route routes {@code call}. */
        private boolean routes(Call call) {
            return route != null && call != null && route.calls.contains(call);
        }

        private final class MethodRewriter extends MethodVisitor {
            private final String method;
            private final int firstSpill;
            private int line = -1;
            private int extraStack;
            private int extraLocals;

            MethodRewriter(MethodVisitor mv, String method, int firstSpill) {
                super(Opcodes.ASM9, mv);
                this.method = method;
                this.firstSpill = firstSpill;
            }

            @Override
            public void visitLineNumber(int line, Label start) {
                this.line = line;
                super.visitLineNumber(line, start);
            }

            private String siteName() {
                return className + "." + method + "(" + (source == null ? "Unknown Source" : source)
                        + (line >= 0 ? ":" + line : "") + ")";
            }

            /** Pushes the id of this call site ({@code call} names what it does), or 0 outside any route. */
            private void pushSite(String call) {
                int id = route == null ? 0 : sites.register(siteName(), call, route);
                if (id <= Short.MAX_VALUE) {
                    super.visitIntInsn(Opcodes.SIPUSH, id);
                } else {
                    super.visitLdcInsn(id);
                }
                extraStack = Math.max(extraStack, 1);
                changed = true;
            }

            private void bridge(String owner, String name, String descriptor) {
                super.visitMethodInsn(Opcodes.INVOKESTATIC, owner, name, descriptor, false);
                changed = true;
            }

            /** Stores the top arguments of {@code types} in fresh locals (last on top first); returns the first local. */
            private int spill(Type[] types) {
                int size = 0;
                for (Type t : types) {
                    size += t.getSize();
                }
                int local = firstSpill + size;
                for (int i = types.length - 1; i >= 0; i--) {
                    local -= types[i].getSize();
                    super.visitVarInsn(types[i].getOpcode(Opcodes.ISTORE), local);
                }
                extraLocals = Math.max(extraLocals, size);
                return firstSpill;
            }

            private void reload(Type[] types, int from) {
                int local = from;
                for (Type t : types) {
                    super.visitVarInsn(t.getOpcode(Opcodes.ILOAD), local);
                    local += t.getSize();
                }
            }

            @Override
            public void visitMethodInsn(int opcode, String owner, String name, String descriptor, boolean isInterface) {
                Row row = Intercepts.find(owner, name, descriptor);
                // invokespecial (Arena.super.allocate(n) in an arena the program implements) runs the default method
                // on the program's own object, which is left alone; made a bridge call it became a virtual call back
                // into the override (StackOverflowError) or a receiver the verifier refuses
                if (row == null || row.isStatic() != (opcode == Opcodes.INVOKESTATIC) || opcode == Opcodes.INVOKESPECIAL) {
                    super.visitMethodInsn(opcode, owner, name, descriptor, isInterface);
                    return;
                }
                // the arena bridges take any SegmentAllocator (an Arena is one), whichever interface the call names
                String receiver = row.call() == Call.ARENA ? Intercepts.ALLOCATOR : owner;
                String receiverFirst = row.isStatic() ? descriptor : "(L" + receiver + ";" + descriptor.substring(1);
                switch (row.action()) {
                    case ROUTE -> {
                        if (routes(row.call())) {
                            pushSite(row.call().configName);
                            bridge(BRIDGE, row.bridge(), appendInt(receiverFirst));
                            return;
                        }
                    }
                    case POOL_AWARE -> {
                        if (routes(row.call())) {
                            pushSite(row.call().configName);
                            bridge(BRIDGE, row.bridge(), appendInt(receiverFirst));
                        } else {
                            bridge(BRIDGE, row.bridge(), row.bridgeDesc());
                        }
                        return;
                    }
                    case ARENA -> {
                        if (routes(row.call())) {
                            Type[] args = Type.getArgumentTypes(descriptor);
                            int from = spill(args);
                            pushSite(row.call().configName);
                            bridge(BRIDGE, row.bridge(), "(L" + owner + ";I)L" + owner + ";");
                            reload(args, from);
                        }
                    }
                    case LOOKUP -> {
                        pushSite("handle");
                        bridge(Intercepts.REFLECT, row.bridge(), appendInt(receiverFirst));
                        return;
                    }
                    case INVOKE -> {
                        // m, receiver, args -> m', receiver', args: Method.invoke stays here (it is caller-sensitive)
                        Type object = Type.getType(Object.class);
                        Type[] all = {Type.getType(java.lang.reflect.Method.class), object, Type.getType(Object[].class)};
                        int from = spill(all);
                        super.visitVarInsn(Opcodes.ALOAD, from);
                        super.visitVarInsn(Opcodes.ALOAD, from + 1);
                        pushSite("reflect");
                        bridge(Intercepts.REFLECT, "invokeTarget",
                                "(Ljava/lang/reflect/Method;Ljava/lang/Object;I)Ljava/lang/reflect/Method;");
                        super.visitVarInsn(Opcodes.ALOAD, from);
                        super.visitVarInsn(Opcodes.ALOAD, from + 1);
                        pushSite("reflect");
                        bridge(Intercepts.REFLECT, "invokeReceiver",
                                "(Ljava/lang/reflect/Method;Ljava/lang/Object;I)Ljava/lang/Object;");
                        super.visitVarInsn(Opcodes.ALOAD, from + 2);
                        extraStack = Math.max(extraStack, 3);
                    }
                    case DOWNCALL -> {
                        // the linker call stays here (restricted, caller-sensitive); its handle passes the bridge
                        Type[] args = Type.getArgumentTypes(descriptor);
                        int from = spill(args);
                        reload(args, from);
                        super.visitMethodInsn(opcode, owner, name, descriptor, isInterface);
                        reload(args, from);
                        pushSite("handle"); // a downcall site is derived once the handle is known to be libc's allocator
                        String d = args.length == 3 ? "Ljava/lang/foreign/MemorySegment;" : "";
                        bridge(Intercepts.REFLECT, "downcall", "(Ljava/lang/invoke/MethodHandle;" + d
                                + "Ljava/lang/foreign/FunctionDescriptor;[Ljava/lang/foreign/Linker$Option;I)Ljava/lang/invoke/MethodHandle;");
                        extraStack = Math.max(extraStack, 4);
                        return;
                    }
                    default -> throw new IllegalStateException(row.action().toString());
                }
                super.visitMethodInsn(opcode, owner, name, descriptor, isInterface);
            }

            @Override
            public void visitInvokeDynamicInsn(String name, String descriptor, Handle bsm, Object... args) {
                boolean lmf = lambda(bsm, args);
                boolean serializable = serializableLambda(bsm, args);
                if (lmf && !serializable && methodReference((Handle) args[1], name, descriptor, bsm, args)) {
                    return;
                }
                Object[] a = args;
                for (int i = 0; i < args.length; i++) {
                    if (args[i] instanceof Handle h) {
                        Handle r = poolAware(h);
                        if (r != null) {
                            if (a == args) {
                                a = args.clone();
                            }
                            a[i] = r;
                        } else {
                            reportIfRoutable(h, serializable ? "serializable method reference" : "handle in a bootstrap's arguments");
                        }
                    } else if (args[i] instanceof ConstantDynamic c) {
                        reportDynamicConstant(c);
                    }
                }
                if (a != args) {
                    changed = true;
                }
                super.visitInvokeDynamicInsn(name, descriptor, bsm, a);
            }

            private void reportIfRoutable(Handle h, String way) {
                if (route == null || method.equals("$deserializeLambda$")) {
                    return; // javac's $deserializeLambda$ re-creates serializable lambdas: reported where they are made
                }
                Row row = Intercepts.find(h.getOwner(), h.getName(), h.getDesc());
                // a downcall handle's struct returns are the route's arena allocations (DowncallRoutes.structReturn)
                boolean routable = row != null && (routes(row.call()) || row.action() == Action.DOWNCALL && routes(Call.ARENA));
                if (routable && row.action() != Action.POOL_AWARE) {
                    sites.unrouted(className, way + " to " + row.owner().replace('/', '.') + "." + row.name() + " at "
                            + siteName(), route);
                }
            }

            /**
             * A dynamic constant is reported when its bootstrap method or arguments (nested constants included) name a
             * routable member; any other (coverage tools' {@code $jacocoData}, say) reaches no off-heap memory.
             */
            private void reportDynamicConstant(ConstantDynamic c) {
                reportIfRoutable(c.getBootstrapMethod(), "dynamic constant");
                for (int i = 0; i < c.getBootstrapMethodArgumentCount(); i++) {
                    Object a = c.getBootstrapMethodArgument(i);
                    if (a instanceof Handle h) {
                        reportIfRoutable(h, "dynamic constant");
                    } else if (a instanceof ConstantDynamic nested) {
                        reportDynamicConstant(nested);
                    }
                }
            }

            /** Rewrites a method reference to a routed member; false when it is not one. */
            private boolean methodReference(Handle impl, String name, String descriptor, Handle bsm, Object[] args) {
                Row row = Intercepts.find(impl.getOwner(), impl.getName(), impl.getDesc());
                if (row == null || !routes(row.call()) || row.action() == Action.POOL_AWARE
                        || impl.getTag() == Opcodes.H_INVOKESPECIAL) { // a super call: the program's own object
                    return false;
                }
                int captured = Type.getArgumentTypes(descriptor).length;
                String target = null;
                String targetDesc = null;
                if (row.call() == Call.ARENA) {
                    if (captured != 1) {
                        sites.unrouted(className, "unbound method reference " + impl.getOwner().replace('/', '.') + "::"
                                + impl.getName() + " at " + siteName(), route);
                        super.visitInvokeDynamicInsn(name, descriptor, bsm, args); // unchanged, and reported once
                        return true;
                    }
                    pushSite(row.call().configName); // the captured receiver passes the bridge once, when captured
                    bridge(BRIDGE, row.owner().equals(Intercepts.ARENA) ? "routeArena" : "routeAllocator",
                            "(L" + row.owner() + ";I)L" + row.owner() + ";");
                    super.visitInvokeDynamicInsn(name, descriptor, bsm, args);
                    return true;
                }
                if (row.action() != Action.ROUTE) {
                    return false;
                }
                if (row.isStatic() && captured == 0) {
                    target = row.bridge() + "Bound";
                    targetDesc = "(I" + impl.getDesc().substring(1);
                } else if (!row.isStatic() && captured == 1) {
                    target = row.bridge() + "Bound";
                    targetDesc = "(L" + impl.getOwner() + ";I" + impl.getDesc().substring(1);
                } else if (!row.isStatic() && captured == 0) {
                    target = row.bridge() + "Unbound";
                    targetDesc = "(IL" + impl.getOwner() + ";" + impl.getDesc().substring(1);
                }
                if (target == null) {
                    return false;
                }
                pushSite(row.call().configName);
                Object[] a = args.clone();
                a[1] = new Handle(Opcodes.H_INVOKESTATIC, BRIDGE, target, targetDesc, false);
                super.visitInvokeDynamicInsn(name, appendInt(descriptor), bsm, a);
                return true;
            }

            @Override
            public void visitLdcInsn(Object value) {
                if (value instanceof Handle h) {
                    Handle r = poolAware(h);
                    if (r != null) {
                        changed = true;
                        super.visitLdcInsn(r);
                        return;
                    }
                    Row row = Intercepts.find(h.getOwner(), h.getName(), h.getDesc());
                    if (row != null && routes(row.call()) && h.getTag() != Opcodes.H_INVOKESPECIAL) { // as findSpecial
                        super.visitLdcInsn(value);
                        super.visitIntInsn(Opcodes.SIPUSH, row.index());
                        pushSite(row.call().configName);
                        bridge(Intercepts.REFLECT, "constant", "(Ljava/lang/invoke/MethodHandle;II)Ljava/lang/invoke/MethodHandle;");
                        extraStack = Math.max(extraStack, 2);
                        return;
                    }
                } else if (value instanceof ConstantDynamic c) {
                    reportDynamicConstant(c);
                }
                super.visitLdcInsn(value);
            }

            @Override
            public void visitMaxs(int maxStack, int maxLocals) {
                super.visitMaxs(maxStack + extraStack, Math.max(maxLocals, firstSpill + extraLocals));
            }
        }
    }

    /** The pool-aware replacement of a handle to Unsafe.freeMemory / reallocateMemory, or null. */
    static Handle poolAware(Handle h) {
        if (h.getTag() != Opcodes.H_INVOKEVIRTUAL) {
            return null;
        }
        Row row = Intercepts.find(h.getOwner(), h.getName(), h.getDesc());
        if (row == null || row.action() != Action.POOL_AWARE) {
            return null;
        }
        return new Handle(Opcodes.H_INVOKESTATIC, BRIDGE, row.bridge(), row.bridgeDesc(), false);
    }

    private static String appendInt(String descriptor) {
        int close = descriptor.indexOf(')');
        return descriptor.substring(0, close) + "I" + descriptor.substring(close);
    }
}
