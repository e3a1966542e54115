package io.jvmem.it;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.function.IntFunction;

/**
 * A program whose report fills every field the agent can write, for the README's field table: one routed
 * {@code allocateDirect} (a site row) and one way the agent reports but does not route (an {@code unrouted} row): a
 * serializable method reference to {@code ByteBuffer.allocateDirect}. Prints {@code "ReportFields OK"}.
 */
public final class ReportFields {
    /** Serializable, so its bootstrap is altMetafactory, which the agent leaves alone and reports. */
    private interface Allocate extends IntFunction<ByteBuffer>, Serializable {
    }

    private ReportFields() {
    }

    public static void main(String[] args) {
        ProgramExit.withFailure("ReportFields", () -> {
            ByteBuffer routed = ByteBuffer.allocateDirect(4096);
            Allocate unrouted = ByteBuffer::allocateDirect;
            ByteBuffer b = unrouted.apply(4096);
            if (!routed.isDirect() || !b.isDirect()) {
                return "not direct";
            }
            System.out.println("ReportFields OK");
            return null;
        });
    }
}
