package io.jvmem.agent.bridge;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Stands for {@code jdk.internal.vm.annotation.DontInline} when the bridge is compiled (renamed like
 * {@link ForceInlineStub}; honoured in java.base only). A routed segment's cleanup runs inside the JDK's
 * {@code ResourceList.cleanup} when its arena closes: if the pool's free were inlined there, that method would compile
 * too big to inline into the program's {@code close()}, and the arena, its session and the segment would escape and
 * be allocated on every use, as they are not for the JDK's own segments.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@interface DontInlineStub {
}
