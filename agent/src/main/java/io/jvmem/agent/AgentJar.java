package io.jvmem.agent;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The agent's own class files read at run time (the bridge, the definer, the warm-up sample): from
 * {@link DefinedClassFiles}, where the build embeds them; else from the agent's jar, opened once; else from the class
 * loader's resources. Also the check that the agent's classes came from the jar {@code -javaagent} named
 * ({@link #foreignBootJar}).
 *
 * <p>The jar's manifest puts it on the bootstrap class path ({@code Boot-Class-Path: jvmem-agent.jar}, resolved next
 * to the jar that {@code -javaagent} names), so the agent's classes load through the boot loader: they are not
 * verified again and are not first looked up along the application's class path, about 60 ms of a hello world's
 * start-up. The manifest attribute prints nothing and keeps class-data sharing (the run-time
 * {@code appendToBootstrapClassLoaderSearch} would do neither). A boot class has no code source, so the jar is found
 * where {@code -javaagent} named it: the command line ({@code /proc/self/cmdline}) and the two environment variables
 * the launcher reads options from. Found nowhere (a renamed jar is loaded by the application class loader and has a
 * code source), the class loader's resources serve, some 20 ms slower.
 */
final class AgentJar {
    /** The agent's premain class, by name: it is compiled apart (for Java 8), after this class. */
    static final String PREMAIN_CLASS = "io.jvmem.agent.JvmemAgent";
    /** The file name the manifest's {@code Boot-Class-Path} names. */
    static final String NAME = "jvmem-agent.jar";

    private static ZipFile jar; // a ZipFile: a JarFile reads the manifest at the first lookup
    private static boolean looked;

    private AgentJar() {
    }

    /** One of the agent's class files ({@code internalName} without {@code .class}); IOException if it lacks it. */
    static byte[] classFile(String internalName) throws IOException {
        byte[] b = classFileOrNull(internalName);
        if (b == null) {
            throw new IOException("agent jar lacks " + internalName + ".class");
        }
        return b;
    }

    /** One of the agent's class files, or null if the jar (or the class path, when there is no jar) lacks it. */
    static byte[] classFileOrNull(String internalName) throws IOException {
        byte[] embedded = embedded().get(internalName);
        if (embedded != null) {
            return embedded.clone();
        }
        ZipFile j = jar();
        if (j != null) {
            ZipEntry e = j.getEntry(internalName + ".class");
            if (e != null) {
                try (InputStream in = j.getInputStream(e)) {
                    return in.readAllBytes();
                }
            }
        }
        try (InputStream in = AgentJar.class.getResourceAsStream("/" + internalName + ".class")) {
            return in == null ? null : in.readAllBytes();
        }
    }

    private static java.util.Map<String, byte[]> embedded;

    /** The class files the build put into {@link DefinedClassFiles}; empty when it kept the stub. */
    static synchronized java.util.Map<String, byte[]> embedded() {
        if (embedded == null) {
            java.util.Map<String, byte[]> m = new java.util.HashMap<>();
            String[] t = DefinedClassFiles.table();
            for (int i = 0; t != null && i < t.length; ) {
                String key = t[i++];
                int n = Integer.parseInt(t[i++]);
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                for (int k = 0; k < n; k++) {
                    out.writeBytes(t[i++].getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                }
                m.put(key, out.toByteArray());
            }
            embedded = m;
        }
        return embedded;
    }

    /** Whether the agent's classes were loaded by the boot loader (the jar kept its name). */
    static boolean onBootClassPath() {
        return AgentJar.class.getClassLoader() == null;
    }

    private static synchronized ZipFile jar() {
        if (!looked) {
            looked = true;
            try {
                CodeSource source = AgentJar.class.getProtectionDomain().getCodeSource();
                Path p = source != null ? fromCodeSource(source) : fromArguments(launchArguments());
                jar = p == null ? null : new ZipFile(p.toFile());
            } catch (IOException | RuntimeException e) {
                jar = null; // the class loader's resources serve instead
            }
        }
        return jar;
    }

    /** The code source's file (an application-loader class), or null when it is a directory. */
    static Path fromCodeSource(CodeSource source) {
        try {
            Path p = source.getLocation() == null ? null : Path.of(source.getLocation().toURI());
            return p != null && Files.isRegularFile(p) ? p : null;
        } catch (java.net.URISyntaxException | IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * The first {@code -javaagent:<path>[=<options>]} among {@code arguments} whose file is named {@link #NAME} and
     * exists (a relative path is the working directory's, as for the JVM); null if none is.
     */
    static Path fromArguments(List<String> arguments) {
        java.io.File f = agentJarFile(arguments);
        return f == null ? null : f.toPath();
    }

    /** {@link #fromArguments} with java.io alone: NIO's first use costs a hello world's start-up. */
    private static java.io.File agentJarFile(List<String> arguments) {
        for (String a : arguments) {
            if (a.startsWith("-javaagent:")) {
                int eq = a.indexOf('=');
                java.io.File f = new java.io.File(a.substring("-javaagent:".length(), eq < 0 ? a.length() : eq));
                if (NAME.equals(f.getName()) && f.isFile()) {
                    return f;
                }
            }
        }
        return null;
    }

    /** The jar of a {@code -javaagent:<path>[=<options>]} argument; null for another argument or a bad path. */
    private static Path javaagentJar(String argument) {
        if (!argument.startsWith("-javaagent:")) {
            return null;
        }
        int eq = argument.indexOf('=');
        try {
            return Path.of(argument.substring("-javaagent:".length(), eq < 0 ? argument.length() : eq));
        } catch (java.nio.file.InvalidPathException e) {
            return null; // not a path an agent could have come from
        }
    }

    /**
     * With the agent's classes on the boot class path: the line that refuses the start when they came from another
     * jar than the one {@code -javaagent} named, else null. The manifest's {@code Boot-Class-Path} names
     * {@link #NAME} next to the named jar, so a jvmem agent jar of another name (an upgrade copied beside the old
     * jar, say) runs the classes of the {@code jvmem-agent.jar} beside it. Only a sure case is refused: no
     * {@code -javaagent} names {@link #NAME} itself, one names a jvmem agent jar (its manifest's Premain-Class is
     * ours) of another name, and a {@link #NAME} lies beside it.
     */
    static String foreignBootJar() {
        List<String> line = commandLine();
        if (agentJarFile(line) != null) {
            return null; // the common case, with java.io alone: NIO's first use costs a hello world's start-up
        }
        return foreignBootJar(launchArguments(line));
    }

    /**
     * {@code arguments} with each {@code @file} replaced by the arguments in that file, as the {@code java} launcher
     * expands them ({@link #splitArgumentFile}); /proc/self/cmdline shows only the {@code @file}. A file that cannot
     * be read stays as it is (the launcher would have refused to start), {@code @@} is a literal {@code @}, and
     * expansion stops at {@code --disable-@files}.
     */
    static List<String> withArgumentFiles(List<String> arguments) {
        List<String> out = new ArrayList<>();
        boolean expand = true;
        for (String a : arguments) {
            if (a.equals("--disable-@files")) {
                expand = false;
            }
            if (expand && a.startsWith("@") && !a.startsWith("@@") && a.length() > 1) {
                try {
                    out.addAll(splitArgumentFile(java.nio.file.Files.readString(Path.of(a.substring(1)))));
                    continue;
                } catch (IOException | RuntimeException e) {
                    // not a file the launcher read: kept as it is
                }
            }
            out.add(a);
        }
        return out;
    }

    /**
     * The arguments of a launcher argument file: separated by white space; a {@code #} that starts an argument comments
     * out the rest of its line; single or double quotes keep white space, and within them a backslash escapes
     * {@code n}, {@code t}, {@code r}, {@code f}, a quote or itself, and at the end of a line continues the argument on
     * the next line without its leading white space (the {@code java} tool's "Command-Line Argument Files").
     */
    static List<String> splitArgumentFile(String text) {
        List<String> args = new ArrayList<>();
        StringBuilder arg = new StringBuilder();
        boolean any = false;
        char quote = 0;
        int n = text.length();
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else if (c == '\\' && i + 1 < n) {
                    char e = text.charAt(++i);
                    if (e == '\n' || e == '\r') {
                        while (i + 1 < n && Character.isWhitespace(text.charAt(i + 1))) {
                            i++; // a continued line: its leading white space is dropped
                        }
                    } else {
                        arg.append(switch (e) {
                            case 'n' -> '\n';
                            case 't' -> '\t';
                            case 'r' -> '\r';
                            case 'f' -> '\f';
                            default -> e;
                        });
                    }
                } else {
                    arg.append(c);
                }
            } else if (Character.isWhitespace(c)) {
                if (any) {
                    args.add(arg.toString());
                    arg.setLength(0);
                    any = false;
                }
            } else if (c == '#' && !any) {
                while (i + 1 < n && text.charAt(i + 1) != '\n') {
                    i++;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                any = true;
            } else {
                arg.append(c);
                any = true;
            }
        }
        if (any) {
            args.add(arg.toString());
        }
        return args;
    }

    /** {@link #foreignBootJar()} for these arguments. */
    static String foreignBootJar(List<String> arguments) {
        if (agentJarFile(arguments) != null) {
            return null;
        }
        for (String a : arguments) {
            Path named = javaagentJar(a);
            if (named == null) {
                continue;
            }
            Path beside = named.resolveSibling(NAME);
            if (Files.isRegularFile(named) && Files.isRegularFile(beside) && isJvmemAgentJar(named)) {
                return "the agent jar " + named + " is not named " + NAME + ", so the JVM loaded the agent's classes "
                        + "from " + beside.toAbsolutePath() + " beside it (the jar's Boot-Class-Path names "
                        + NAME + "): name the jar " + NAME + " or move it away from the other one";
            }
        }
        return null;
    }

    private static boolean isJvmemAgentJar(Path jar) {
        try (java.util.jar.JarFile j = new java.util.jar.JarFile(jar.toFile(), false)) {
            java.util.jar.Manifest m = j.getManifest();
            return m != null && PREMAIN_CLASS.equals(m.getMainAttributes().getValue("Premain-Class"));
        } catch (IOException | SecurityException e) {
            return false;
        }
    }

    /**
     * What can be read of the process's command line (its argument files expanded) and the launcher's option
     * variables, split into arguments.
     */
    static List<String> launchArguments() {
        return launchArguments(commandLine());
    }

    /** {@code commandLine} with its argument files expanded, then the option variables. */
    private static List<String> launchArguments(List<String> commandLine) {
        List<String> args = withArgumentFiles(commandLine);
        args.addAll(optionVariables());
        return args;
    }

    /** The process's command line ({@code /proc/self/cmdline}), one argument per element; empty without /proc. */
    static List<String> commandLine() {
        List<String> args = new ArrayList<>();
        byte[] cmdline;
        try (InputStream in = new java.io.FileInputStream("/proc/self/cmdline")) {
            cmdline = in.readAllBytes();
        } catch (IOException | SecurityException e) {
            cmdline = new byte[0]; // no /proc: the variables alone; a jar found nowhere is read through resources
        }
        int start = 0;
        for (int i = 0; i <= cmdline.length; i++) {
            if (i == cmdline.length || cmdline[i] == 0) {
                if (i > start) {
                    args.add(new String(cmdline, start, i - start, java.nio.charset.StandardCharsets.UTF_8));
                }
                start = i + 1;
            }
        }
        return args;
    }

    /** The options in {@code JAVA_TOOL_OPTIONS} and {@code JDK_JAVA_OPTIONS}, split at white space. */
    static List<String> optionVariables() {
        List<String> args = new ArrayList<>();
        for (String variable : new String[] {"JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS"}) {
            String v = System.getenv(variable);
            if (v != null) {
                args.addAll(splitOptions(v));
            }
        }
        return args;
    }

    /**
     * {@code options} split at white space, as the JVM ({@code JAVA_TOOL_OPTIONS}) and the launcher
     * ({@code JDK_JAVA_OPTIONS}) split them: a pair of single or double quotes anywhere in an argument keeps what it
     * encloses, white space included, and is dropped (an unmatched quote runs to the end). No regex: start-up.
     */
    static List<String> splitOptions(String options) {
        List<String> args = new ArrayList<>();
        int i = 0;
        int n = options.length();
        while (i < n) {
            while (i < n && Character.isWhitespace(options.charAt(i))) {
                i++;
            }
            StringBuilder arg = new StringBuilder();
            boolean any = false;
            while (i < n && !Character.isWhitespace(options.charAt(i))) {
                char c = options.charAt(i++);
                any = true;
                if (c == '\'' || c == '"') {
                    int close = options.indexOf(c, i);
                    int end = close < 0 ? n : close;
                    arg.append(options, i, end);
                    i = close < 0 ? n : close + 1;
                } else {
                    arg.append(c);
                }
            }
            if (any) {
                args.add(arg.toString());
            }
        }
        return args;
    }
}
