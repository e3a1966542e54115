package sample.reach;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import sun.misc.Unsafe;

/** A serializable method reference to Unsafe.freeMemory (pool-aware in every class) that goes through serialization. */
public final class SerialFree {
    /** {@code Unsafe::freeMemory}, receiver passed, serializable. */
    public interface Free extends Serializable {
        void free(Unsafe u, long address);
    }

    private SerialFree() {
    }

    public static Free reference() {
        return Unsafe::freeMemory;
    }

    /** {@code f} written and read back, as a program that keeps its lambdas in serialized state would. */
    public static Free roundTrip(Free f) throws IOException, ClassNotFoundException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(f);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (Free) in.readObject();
        }
    }
}
