package sample.cli;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/** Prints {@code ready}, then allocates a direct buffer every 20 ms until {@code args[0]} exists; prints the count. */
public final class Sleeper {
    public static void main(String[] args) throws Exception {
        System.out.println("ready");
        System.out.flush();
        int n = 0;
        long end = System.nanoTime() + 60_000_000_000L;
        while (!Files.exists(Path.of(args[0])) && System.nanoTime() < end) {
            allocate();
            n++;
            Thread.sleep(20);
        }
        System.out.println("allocations " + n);
    }

    /** A method of its own: a retransformed class's running main keeps its old code, new calls get the new. */
    static ByteBuffer allocate() {
        return ByteBuffer.allocateDirect(4096);
    }
}
