package sample.unrouted;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** No route selects this class: the agent makes its downcall handles of free's shape pool-aware, nothing more. */
public final class UnboundDowncalls {
    private UnboundDowncalls() {
    }

    /** {@code void f(void *)} with the function's address as the first argument. */
    public static MethodHandle voidOfPointer(Linker.Option... options) {
        return Linker.nativeLinker().downcallHandle(FunctionDescriptor.ofVoid(ValueLayout.ADDRESS), options);
    }
}
