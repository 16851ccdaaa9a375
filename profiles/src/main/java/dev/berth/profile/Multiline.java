package dev.berth.profile;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A text field that may span lines (a Puppet manifest, a description, an argument of a command run
 * as argv). Every other string of a profile is one line without control characters, because many of
 * them end up in line-based formats (the LXC config, fstab-style mount entries, environment files).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface Multiline {
}
