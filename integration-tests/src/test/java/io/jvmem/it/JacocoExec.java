package io.jvmem.it;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * JaCoCo's execution data file ({@code jacoco.exec}), read without JaCoCo's own library: the probes of every class,
 * by VM class name ({@code io/netty/Foo}). The format (JaCoCo's {@code ExecutionDataWriter}): a header block
 * ({@code 0x01}, magic {@code 0xC0C0}, format version), session blocks ({@code 0x10}: id, start, dump) and one
 * execution data block per class ({@code 0x11}: class id, name, probes as a var-int length and bits packed eight to a
 * byte, least significant first).
 */
final class JacocoExec {
    private JacocoExec() {
    }

    static Map<String, boolean[]> read(Path file) throws IOException {
        Map<String, boolean[]> probes = new LinkedHashMap<>();
        try (InputStream raw = Files.newInputStream(file); DataInputStream in = new DataInputStream(raw)) {
            while (true) {
                int block = in.read();
                if (block < 0) {
                    return probes;
                }
                switch (block) {
                    case 0x01 -> {
                        if (in.readChar() != 0xC0C0) {
                            throw new IOException(file + " is not a JaCoCo execution data file");
                        }
                        in.readChar();
                    }
                    case 0x10 -> {
                        in.readUTF();
                        in.readLong();
                        in.readLong();
                    }
                    case 0x11 -> {
                        in.readLong();
                        String name = in.readUTF();
                        boolean[] bits = new boolean[varInt(in)];
                        int buffer = 0;
                        for (int i = 0; i < bits.length; i++) {
                            if (i % 8 == 0) {
                                buffer = in.readUnsignedByte();
                            }
                            bits[i] = (buffer & 1) != 0;
                            buffer >>>= 1;
                        }
                        boolean[] old = probes.put(name, bits);
                        if (old != null) { // a class dumped twice in one file: JaCoCo merges them
                            for (int i = 0; i < Math.min(old.length, bits.length); i++) {
                                bits[i] |= old[i];
                            }
                        }
                    }
                    default -> throw new IOException(file + ": unknown block type " + block);
                }
            }
        } catch (EOFException e) {
            throw new IOException(file + " ends inside a block", e);
        }
    }

    /** How many of {@code probes} were hit. */
    static int hits(boolean[] probes) {
        int n = 0;
        for (boolean b : probes) {
            n += b ? 1 : 0;
        }
        return n;
    }

    static String describe(boolean[] probes) {
        return hits(probes) + " of " + probes.length + " " + Arrays.toString(probes);
    }

    private static int varInt(DataInputStream in) throws IOException {
        int value = in.readUnsignedByte();
        if ((value & 0x80) == 0) {
            return value;
        }
        return (value & 0x7F) | (varInt(in) << 7);
    }
}
