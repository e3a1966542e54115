package io.jvmem.agent;

import io.jvmem.agent.AgentConfig.RouteSpec;

/**
 * Start-up work done ahead of need. {@link #jdkClassesInBackground} initializes the FFM classes the pools need on a
 * thread of its own. {@link #run} is what the premain thread does while it waits for the pools (opened on another
 * thread, the longer of the two): it rewrites a sample class ({@code io.jvmem.agent.warmup.Sample}, never loaded) and
 * throws the result away, so that ASM and the rewriter are loaded and run once before the program's first class needs
 * them. That rewrite was the start-up's slowest step after premain (about 35 ms of CPU time for a hello world, most
 * of it ASM's first use).
 * Nothing is registered: the sites and the route are stand-ins, and a failure here changes nothing (the program's
 * classes are rewritten as before).
 */
final class StartupWarmUp {
    private static final String SAMPLE = "io/jvmem/agent/warmup/Sample";

    private StartupWarmUp() {
    }

    /**
     * Initializes, on a thread of its own started first thing in premain, JDK classes that every pool's creation needs,
     * in the order it needs them: FFM sessions and segments, the layouts' access machinery (some 25 ms of class
     * initialization) and CRC32C (whose initializer fills its tables in the interpreter, 4 ms). A class initializes
     * once, whichever thread gets there first: the pool opener, which starts once the config is read, finds them ready
     * or waits for the one under way instead of doing it all itself. Here they overlap with reading the config and
     * making the pool's file; on the opener they had been the longest step of start-up.
     */
    static void jdkClassesInBackground() {
        Thread t = new Thread(new Runnable() {
            @Override
            public void run() { // not a lambda: its bootstrap costs start-up
                jdkClasses();
            }
        }, "jvmem-warm-up");
        t.setDaemon(true);
        t.start();
    }

    static void jdkClasses() {
        try {
            java.lang.foreign.Arena.ofConfined().close();
            java.lang.foreign.MemorySegment.ofArray(new byte[8]).byteSize();
            java.lang.foreign.ValueLayout.JAVA_LONG.varHandle();
            new java.util.zip.CRC32C();
        } catch (Throwable t) {
            // only a warm-up
        }
    }

    /** Rewrites the sample as a class of {@code spec}'s route would be; returns whether the rewrite changed it. */
    static boolean run(RouteSpec spec) {
        try {
            byte[] out = CallSiteRewriter.rewrite(AgentJar.classFile(SAMPLE), new Route(spec, null),
                    new CallSiteRewriter.SiteRegistrar() {
                        @Override
                        public int register(String siteName, String call, Route route) {
                            return 1;
                        }
                    });
            return out != null;
        } catch (Throwable t) {
            return false; // only a warm-up: the program's classes are rewritten (and failures reported) as before
        }
    }
}
