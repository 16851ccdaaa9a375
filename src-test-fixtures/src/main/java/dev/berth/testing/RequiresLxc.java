package dev.berth.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The test drives real LXC containers. Each test method gets an {@link LxcSandbox} parameter: its own
 * lxcpath and run-prefixed names, destroyed after the test whether it passed or not. A host without
 * liblxc or root fails these tests rather than skipping them: a skipped container test proves nothing.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(LxcSandboxExtension.class)
public @interface RequiresLxc {
}
