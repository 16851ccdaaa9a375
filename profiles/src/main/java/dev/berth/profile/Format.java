package dev.berth.profile;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A value type written as one YAML string and read by its {@code static parse(String)} method, which
 * throws {@link IllegalArgumentException} saying what is allowed.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface Format {
    /** A regular expression for editors (JSON Schema {@code pattern}). */
    String pattern();

    /** The accepted forms, in words, with examples. */
    String description();
}
