package sample.late;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.nio.ByteBuffer;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;

/**
 * Defines {@code args[2]} application classes (empty, in this package), allocates through {@link Alloc}, then attaches
 * the agent to itself: every class loaded before the attach is a candidate for retransformation. Prints whether the
 * buffer allocated after the attach, through the retransformed {@code Alloc}, is in the pool.
 */
public final class ManyClassesMain {
    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[2]);
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        for (int i = 0; i < n; i++) {
            ClassWriter cw = new ClassWriter(0);
            cw.visit(Opcodes.V17, Opcodes.ACC_FINAL | Opcodes.ACC_SUPER, "sample/late/Generated" + i, null, "java/lang/Object", null);
            cw.visitEnd();
            lookup.defineClass(cw.toByteArray());
        }
        Alloc.allocate(64);
        Victim.touch(); // refused by FieldAddingAgent when that agent runs
        SelfAttach.load(args[0], args[1]);
        ByteBuffer after = Alloc.allocate(4096);
        System.out.println("after-in-pool=" + io.jvmem.agent.Jvmem.pool("late").contains(MemorySegment.ofBuffer(after).address()));
    }
}
