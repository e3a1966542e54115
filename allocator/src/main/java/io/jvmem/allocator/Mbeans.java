package io.jvmem.allocator;

import java.lang.management.ManagementFactory;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

/**
 * Registers jvmem's MXBeans on the platform MBean server from one background daemon thread ({@code jvmem-jmx}), so
 * that neither pool creation nor the agent's start-up loads {@code javax.management} themselves. The thread never
 * creates the platform server: creating it costs about 0.5 s of CPU (the JDK registers every platform MXBean, and its
 * diagnostic-command bean describes every {@code jcmd} command, JFR's included), which every program under the agent
 * paid a second after it started, whether anyone looked or not. The beans are registered once something else has
 * created the server: a JMX client attaching (jconsole, VisualVM, {@code jvmem stats --pid}, which start the JVM's
 * local management agent), {@code -Dcom.sun.management.jmxremote}, an exporter agent, or the program itself. The
 * thread waits {@link #DELAY_MILLIS}, then looks for the server every {@link #POLL_MILLIS}; a short program exits
 * before it runs at all. Requests are applied in order; an unregistration cancels a registration still waiting.
 * Thread-safe.
 */
public final class Mbeans {
    /** How long after the first request the thread first looks for the platform server. */
    public static final long DELAY_MILLIS = 1000;
    /** How often, after that, it looks for the platform server until something has created it. */
    public static final long POLL_MILLIS = 1000;

    private record Task(String name, Object bean) {
    }

    private static final Object LOCK = new Object();
    private static final ArrayDeque<Task> QUEUE = new ArrayDeque<>();
    private static boolean started;
    private static boolean busy;

    private Mbeans() {
    }

    /**
     * Registers {@code bean} (an instance of a public interface named {@code …MXBean}) under {@code objectName} soon,
     * replacing a bean of that name. Failures are ignored: monitoring must never stop the program.
     */
    public static void registerLater(String objectName, Object bean) {
        submit(new Task(objectName, bean));
    }

    /** Unregisters {@code objectName} soon, or cancels its registration if it has not happened yet. */
    public static void unregisterLater(String objectName) {
        synchronized (LOCK) {
            boolean pending = QUEUE.removeIf(t -> t.name.equals(objectName) && t.bean != null);
            if (pending) {
                return;
            }
        }
        submit(new Task(objectName, null));
    }

    /**
     * Waits until every request made so far is applied (for tests); false on timeout, and always false while nothing
     * has created the platform MBean server.
     */
    public static boolean awaitIdle(long timeoutMillis) throws InterruptedException {
        long end = System.nanoTime() + timeoutMillis * 1_000_000;
        synchronized (LOCK) {
            while (!QUEUE.isEmpty() || busy) {
                long left = (end - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    return false;
                }
                LOCK.wait(left);
            }
            return true;
        }
    }

    private static void submit(Task t) {
        synchronized (LOCK) {
            QUEUE.add(t);
            LOCK.notifyAll();
            if (!started) {
                started = true;
                Thread.ofPlatform().daemon().name("jvmem-jmx").start(new Runnable() {
                    @Override
                    public void run() { // not a lambda: its bootstrap would cost the caller's start-up
                        Server.work();
                    }
                });
            }
        }
    }

    /**
     * A key property value as {@link ObjectName#quote} would write it when it holds a character a bare value may not
     * ({@code , = : " * ? \n}); done here so the caller's thread does not load {@code javax.management}.
     */
    public static String quoteIfNeeded(String v) {
        boolean plain = !v.isEmpty();
        for (int i = 0; i < v.length() && plain; i++) {
            plain = ",=:\"*?\n".indexOf(v.charAt(i)) < 0;
        }
        if (plain) {
            return v;
        }
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\\', '"', '*', '?' -> b.append('\\').append(c);
                default -> b.append(c);
            }
        }
        return b.append('"').toString();
    }
    /** The side that touches {@code javax.management}: its own class, so that loading {@link Mbeans} loads none of it. */
    static final class Server {
        private Server() {
        }

        static void work() {
            try {
                Thread.sleep(DELAY_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            MBeanServer server;
            try {
                server = platformOnceCreated();
            } catch (InterruptedException e) {
                return;
            }
            Map<String, ObjectName> names = new HashMap<>();
            while (true) {
                Task t;
                synchronized (LOCK) {
                    busy = false;
                    LOCK.notifyAll();
                    while (QUEUE.isEmpty()) {
                        try {
                            LOCK.wait();
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                    t = QUEUE.poll();
                    busy = true;
                }
                try {
                    ObjectName n = names.computeIfAbsent(t.name, Server::name);
                    if (server.isRegistered(n)) {
                        server.unregisterMBean(n);
                    }
                    if (t.bean != null) {
                        server.registerMBean(t.bean, n);
                    } else {
                        names.remove(t.name);
                    }
                } catch (JMException | RuntimeException e) {
                    // a bean that cannot be registered is left out
                }
            }
        }

        /**
         * The platform MBean server once something other than jvmem has created it. {@code getPlatformMBeanServer}
         * would create it; {@code findMBeanServer} lists the servers made so far, the platform one among them (the
         * one where the JDK registered {@code java.lang:type=Runtime}).
         */
        static MBeanServer platformOnceCreated() throws InterruptedException {
            ObjectName runtime = name(ManagementFactory.RUNTIME_MXBEAN_NAME);
            while (true) {
                for (MBeanServer s : MBeanServerFactory.findMBeanServer(null)) {
                    if (s.isRegistered(runtime)) {
                        return ManagementFactory.getPlatformMBeanServer(); // made already: this only returns it
                    }
                }
                Thread.sleep(POLL_MILLIS);
            }
        }

        static ObjectName name(String s) {
            try {
                return new ObjectName(s);
            } catch (MalformedObjectNameException e) {
                throw new IllegalArgumentException(s + ": " + e.getMessage(), e);
            }
        }
    }
}
