package io.jvmem.it;

import com.sun.tools.attach.VirtualMachine;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Late attach into a running program: direct buffers from a class of the program ({@link LateBlocks}) before and after
 * the program attaches jvmem to itself ({@code VirtualMachine.loadAgent}), as an operator would with
 * {@code jvmem attach}. Whatever other agent runs (started with {@code -javaagent}) stays as it is.
 *
 * <p>Args: {@code agentJar} (or {@code none}: everything the same but no attach), {@code config}, {@code poolDir},
 * {@code buffers}. Needs {@code -Djdk.attach.allowAttachSelf=true}. Every buffer is filled from a seeded pattern and
 * checked byte by byte while all are live; a buffer counts as pool memory when it lies in a mapping of a file in
 * {@code poolDir}. Prints {@code LATE OK attached=true|false before= beforeInPool= after= afterInPool= checked=}.
 */
public final class LateAttach {
    private LateAttach() {
    }

    public static void main(String[] args) {
        ProgramExit.withFailure("LATE", () -> run(args[0], args[1], Path.of(args[2]).toAbsolutePath(),
                Integer.parseInt(args[3])));
    }

    static String run(String agentJar, String config, Path poolDir, int buffers) throws Exception {
        List<ByteBuffer> before = new ArrayList<>();
        for (int i = 0; i < buffers; i++) {
            before.add(LateBlocks.filled(i));
        }
        boolean attach = !agentJar.equals("none");
        if (attach) {
            VirtualMachine vm = VirtualMachine.attach(Long.toString(ProcessHandle.current().pid()));
            try {
                vm.loadAgent(agentJar, config);
            } finally {
                vm.detach();
            }
        }
        List<ByteBuffer> after = new ArrayList<>();
        for (int i = 0; i < buffers; i++) {
            after.add(LateBlocks.filledAfterAttach(buffers + i));
        }
        long checked = 0;
        for (int i = 0; i < buffers; i++) {
            String bad = LateBlocks.check(before.get(i), i);
            bad = bad != null ? bad : LateBlocks.check(after.get(i), buffers + i);
            if (bad != null) {
                return bad;
            }
            checked += before.get(i).capacity() + after.get(i).capacity();
        }
        List<long[]> pool = NettyDefaultEcho.mappingsOf(poolDir);
        System.out.println("LATE OK attached=" + attach + " before=" + buffers + " beforeInPool=" + inPool(pool, before)
                + " after=" + buffers + " afterInPool=" + inPool(pool, after) + " checked=" + checked);
        return null;
    }

    private static int inPool(List<long[]> pool, List<ByteBuffer> buffers) {
        int n = 0;
        for (ByteBuffer b : buffers) {
            if (NettyDefaultEcho.within(pool, java.lang.foreign.MemorySegment.ofBuffer(b).address(), b.capacity())) {
                n++;
            }
        }
        return n;
    }
}
