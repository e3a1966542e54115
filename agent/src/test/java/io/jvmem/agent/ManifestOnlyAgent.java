package io.jvmem.agent;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/** For forked-JVM tests: a jar holding only a manifest that names a premain class found on the class path. */
final class ManifestOnlyAgent {
    private ManifestOnlyAgent() {
    }

    /** Writes {@code jar} naming {@code premainClass}; {@code canRetransform} sets {@code Can-Retransform-Classes}. */
    static Path write(Path jar, String premainClass, boolean canRetransform) throws IOException {
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().putValue("Premain-Class", premainClass);
        if (canRetransform) {
            m.getMainAttributes().putValue("Can-Retransform-Classes", "true");
        }
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, m)) {
            j.flush();
        }
        return jar;
    }
}
