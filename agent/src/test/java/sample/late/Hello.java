package sample.late;

/** A small program for start-up checks: one direct buffer, one line of output. */
public final class Hello {
    public static void main(String[] args) {
        System.out.println("hello " + Alloc.allocate(64).capacity());
    }
}
