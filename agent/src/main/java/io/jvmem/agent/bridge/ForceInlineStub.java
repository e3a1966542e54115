package io.jvmem.agent.bridge;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Stands for {@code jdk.internal.vm.annotation.ForceInline} when the bridge is compiled (renamed like
 * {@link InternalUnsafeStub}); the JVM honours it in java.base classes only, where the bridge is defined. The routed
 * arena path must inline into its caller whole, as the JDK's own allocate does, or the caller's arena, its session
 * and the segment escape and are allocated on every call (escape analysis removes them from the JDK's path).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@interface ForceInlineStub {
}
