package dev.berth.agent.container;

import dev.berth.profile.ComposedProfile;
import dev.berth.profile.Composer;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What a container's record composes to: its profiles as they are now, then its own overrides. One
 * place for the composition every part of the agent asks for (a cache, dropped on change, belongs here).
 */
final class ContainerSpecs {

    private final ContainerRecords records;
    private final Supplier<Composer> profiles;

    ContainerSpecs(ContainerRecords records, Supplier<Composer> profiles) {
        this.records = records;
        this.profiles = profiles;
    }

    /** Container {@code name}'s composed profile; a profile that no longer composes is a ProfileException. */
    ComposedProfile composed(String name) {
        ContainerRecord record = records.get(name);
        return compose(record, record.overrides());
    }

    /** {@code record}'s profiles with {@code own} overrides in place of its own (to check a change before it is written). */
    ComposedProfile compose(ContainerRecord record, Map<String, Object> own) {
        return profiles.get().compose(record.profiles(), Overrides.toNode("config of " + record.name(), own));
    }
}
