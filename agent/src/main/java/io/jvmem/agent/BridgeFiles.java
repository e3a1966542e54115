package io.jvmem.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Build step (run by Maven after compiling the agent): writes the classes the agent defines at run time, already
 * renamed ({@link BridgeInstaller#NAMES}), under {@value #DIR} next to the agent's classes. The agent then reads them
 * as they are: renaming them at start-up took about 13 ms of CPU time in the interpreter. A tree compiled without this
 * step (an IDE's) still works; the agent renames the classes itself ({@link BridgeInstaller#defined}).
 */
public final class BridgeFiles {
    /** Where the renamed class files live, relative to the agent's classes (and in the agent jar). */
    static final String DIR = "META-INF/jvmem/defined/";
    /** The agent's classes defined at run time (into java.base, or next to the agent for the hooks). */
    static final List<String> DEFINED = List.of(
            "io/jvmem/agent/bridge/Hooks", "io/jvmem/agent/bridge/Release", "io/jvmem/agent/bridge/Bridge",
            "io/jvmem/agent/bridge/RoutedArena", "io/jvmem/agent/bridge/Invocation", "io/jvmem/agent/bridge/Reflect",
            "io/jvmem/agent/bridge/Downcalls", "io/jvmem/agent/refwait/WaitForReferenceProcessing",
            "io/jvmem/agent/HooksImpl");

    private BridgeFiles() {
    }

    /** {@code args[0]}: the agent's classes directory. */
    public static void main(String[] args) throws IOException {
        Path classes = Path.of(args[0]);
        for (String name : DEFINED) {
            byte[] renamed = ClassRenamer.rename(Files.readAllBytes(classes.resolve(name + ".class")), BridgeInstaller.NAMES);
            Path out = classes.resolve(DIR + name + ".class");
            Files.createDirectories(out.getParent());
            Files.write(out, renamed);
        }
    }
}
