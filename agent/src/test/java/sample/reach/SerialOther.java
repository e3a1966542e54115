package sample.reach;

import java.io.Serializable;
import sun.misc.Unsafe;

/**
 * A serializable lambda of an unrelated member beside a method reference to Unsafe.freeMemory that is not serializable:
 * the reference is made pool-aware, and the class's {@code $deserializeLambda$} must stay as javac wrote it.
 */
public final class SerialOther {
    /** Serializable, naming nothing the agent intercepts. */
    public interface Task extends Serializable {
        long run(long x);
    }

    /** Not serializable. */
    public interface Free {
        void free(Unsafe u, long address);
    }

    private SerialOther() {
    }

    public static Task task() {
        return Math::abs;
    }

    public static Free free() {
        return Unsafe::freeMemory;
    }
}
