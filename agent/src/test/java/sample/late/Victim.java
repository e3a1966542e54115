package sample.late;

/** A class another agent makes impossible to retransform ({@link FieldAddingAgent}). */
public final class Victim {
    private Victim() {
    }

    public static int touch() {
        return 1;
    }
}
