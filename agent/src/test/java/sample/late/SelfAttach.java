package sample.late;

import com.sun.tools.attach.VirtualMachine;

/** Late attach of an agent jar to this very JVM (needs {@code -Djdk.attach.allowAttachSelf=true}). */
final class SelfAttach {
    private SelfAttach() {
    }

    /** Loads {@code jar} with argument {@code config}; the attach API's exception if the agent refused to start. */
    static void load(String jar, String config) throws Exception {
        VirtualMachine vm = VirtualMachine.attach(Long.toString(ProcessHandle.current().pid()));
        try {
            vm.loadAgent(jar, config);
        } finally {
            vm.detach();
        }
    }
}
