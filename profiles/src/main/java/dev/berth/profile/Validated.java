package dev.berth.profile;

/** A profile section with rules across its fields, checked once the profile is composed. */
public interface Validated {

    void validate(Checks checks);
}
