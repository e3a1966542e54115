package sample.reach;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/** {@code Method.invoke} as a program calls it: the agent substitutes the method and receiver of intercepted members. */
public final class Invoker {
    private Invoker() {
    }

    public static Object invoke(Method m, Object receiver, Object... args) throws IllegalAccessException, InvocationTargetException {
        return m.invoke(receiver, args);
    }
}
