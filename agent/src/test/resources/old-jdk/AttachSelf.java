import com.sun.tools.attach.VirtualMachine;

/**
 * Run by AgentProcessIT on an old JDK as a source file (java AttachSelf.java <agent jar> <config>): attaches the agent
 * to its own JVM, then shows that the JVM is still running. Written for any JDK from 11 on.
 */
public class AttachSelf {
    public static void main(String[] args) throws Exception {
        VirtualMachine vm = VirtualMachine.attach(Long.toString(ProcessHandle.current().pid()));
        try {
            vm.loadAgent(args[0], args[1]);
            System.out.println("loadAgent returned");
        } catch (Exception e) {
            System.out.println("loadAgent threw " + e.getClass().getName());
        } finally {
            vm.detach();
        }
        System.out.println("still running");
    }
}
