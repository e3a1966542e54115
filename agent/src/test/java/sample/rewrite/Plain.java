package sample.rewrite;

/** Mentions no target: must load byte-identical. */
public class Plain {
    public static String allocateDirectly() {
        return "allocateDirect is only a word here";
    }
}
