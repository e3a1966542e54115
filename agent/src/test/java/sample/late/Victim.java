package sample.late;

import java.nio.ByteBuffer;

/**
 * A class another agent makes impossible to retransform ({@link FieldAddingAgent}); it allocates, so the agent would
 * retransform it (a class whose file mentions no intercepted member is left alone).
 */
public final class Victim {
    private Victim() {
    }

    public static int touch() {
        return ByteBuffer.allocateDirect(16).capacity();
    }
}
