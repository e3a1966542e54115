package example.kv;

import io.jvmem.agent.Jvmem;

/**
 * {@code KvMain put <key> <value> | get <key> | size}, run under the agent with a {@code kind=cto} pool named
 * {@code kv}; the agent opens the pool at start-up and closes it (flushed, marked clean) at exit.
 */
public final class KvMain {
    public static void main(String[] args) {
        KvStore store = new KvStore(Jvmem.ctoPool("kv"));
        switch (args[0]) {
            case "put" -> store.put(args[1], args[2]);
            case "get" -> System.out.println(args[1] + "=" + store.get(args[1]));
            case "size" -> System.out.println("size=" + store.size());
            default -> throw new IllegalArgumentException(args[0]);
        }
    }
}
