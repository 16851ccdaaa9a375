package dev.berth.profile;

/** Reports a problem with one field of the record being checked, located at that field's value. */
public interface Checks {

    void fail(String field, String message, String hint);
}
