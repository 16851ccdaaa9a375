package dev.berth.agent.container;

import dev.berth.agent.error.AgentException;
import dev.berth.agent.image.ImageStore;
import dev.berth.agent.image.InitSystem;
import dev.berth.agent.net.Network;
import dev.berth.agent.profile.ProfileRegistry;
import dev.berth.agent.runtime.ContainerRuntime;
import dev.berth.profile.AppSpec;
import dev.berth.profile.ComposedProfile;
import dev.berth.profile.Composer;
import dev.berth.profile.HostFacts;
import dev.berth.profile.ProfileSpec;
import dev.berth.profile.PuppetSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * What a container's record composes to (its profiles as they are now, then its own overrides) and
 * what follows from that: its app, Puppet, snapshot schedule, init, address, and which containers
 * use an image or a profile. The one cache of compositions in the agent: an entry holds while the
 * record and the profiles it was composed from are the same instances, so that a change of either
 * is seen at once without anyone having to drop it.
 */
public final class ContainerSpecs {

    private final ContainerRecords records;
    private final ProfileRegistry profiles;
    private final ContainerRuntime runtime;
    private final ImageStore images;
    private final HostFacts host;
    /** The managed network (for addresses it assigned), or null. */
    private final Network network;
    private final Map<String, Composed> cache = new ConcurrentHashMap<>();

    /** How long a Puppet spec read with its manifest file is kept: an edit of the file is seen within this. */
    private static final java.time.Duration MANIFEST_FRESH = java.time.Duration.ofSeconds(10);

    /** One composition, and what was derived from it so far. */
    private static final class Composed {
        final ContainerRecord record;
        final Composer composer;
        final ComposedProfile profile;
        /** null: not derived yet; empty: no app (or a bad one). */
        volatile Optional<AppSpec> app;
        volatile Optional<PuppetSpec> puppet;
        volatile java.time.Instant puppetRead;

        Composed(ContainerRecord record, Composer composer, ComposedProfile profile) {
            this.record = record;
            this.composer = composer;
            this.profile = profile;
        }
    }

    public ContainerSpecs(ContainerRecords records, ProfileRegistry profiles, ContainerRuntime runtime, ImageStore images,
                          HostFacts host, Network network) {
        this.records = records;
        this.profiles = profiles;
        this.runtime = runtime;
        this.images = images;
        this.host = host;
        this.network = network;
    }

    /** The profiles as they are now. */
    Composer profiles() {
        return profiles.composer();
    }

    /**
     * Container {@code name}'s composed profile.
     *
     * @throws AgentException.NotFound when Berth has no record of {@code name}
     * @throws dev.berth.profile.ProfileException when its profiles no longer compose
     */
    public ComposedProfile composed(String name) {
        return entry(name).profile;
    }

    private Composed entry(String name) {
        ContainerRecord record = records.get(name);
        Composer composer = profiles.composer();
        Composed known = cache.get(name);
        if (known != null && known.record == record && known.composer == composer) {
            return known;
        }
        Composed made = new Composed(record, composer, compose(composer, record, record.overrides()));
        cache.put(name, made);
        return made;
    }

    /** {@code record}'s profiles with {@code own} overrides in place of its own (to check a change before it is written). */
    ComposedProfile compose(ContainerRecord record, Map<String, Object> own) {
        return compose(profiles.composer(), record, own);
    }

    private static ComposedProfile compose(Composer composer, ContainerRecord record, Map<String, Object> own) {
        return composer.compose(record.profiles(), Overrides.toNode("config of " + record.name(), own));
    }

    /** The container went: its entry goes too. */
    void forget(String name) {
        cache.remove(name);
    }

    /** Berth's record of container {@code name}. */
    public ContainerRecord record(String name) {
        return records.get(name);
    }

    /** A profile's app with its limits resolved for this host and checked against the container's (a bad one is a 400). */
    AppSpec appSpec(ProfileSpec spec) {
        try {
            return AppSpec.from(spec, host.memoryBytes());
        } catch (IllegalArgumentException e) {
            throw new AgentException.Invalid(e.getMessage());
        }
    }

    /** Container {@code name}'s app with its defaults filled, or null without one (or when its profiles no longer compose). */
    public AppSpec appSpecOf(String name) {
        Composed entry;
        try {
            entry = entry(name);
        } catch (RuntimeException e) {
            return null;
        }
        Optional<AppSpec> app = entry.app;
        if (app == null) {
            try {
                app = Optional.ofNullable(appSpec(entry.profile.spec()));
            } catch (RuntimeException e) {
                app = Optional.empty();
            }
            entry.app = app;
        }
        return app.orElse(null);
    }

    /** Container {@code name}'s Puppet configuration, or null without one; a profile that no longer composes is an error. */
    public PuppetSpec puppetSpecOf(String name) {
        Composed entry = entry(name);
        java.time.Instant now = java.time.Instant.now();
        Optional<PuppetSpec> puppet = entry.puppet;
        if (puppet == null || entry.puppetRead.plus(MANIFEST_FRESH).isBefore(now)) {
            puppet = Optional.ofNullable(PuppetSpec.from(entry.profile)); // reads a puppet.manifest-file
            entry.puppetRead = now;
            entry.puppet = puppet;
        }
        return puppet.orElse(null);
    }

    /** Container {@code name}'s automatic-snapshot settings, or empty (none, not Berth's, or its profiles no longer compose). */
    Optional<ProfileSpec.AutoSnapshots> autoSnapshotsOf(String name) {
        try {
            return Optional.ofNullable(composed(name).spec().snapshots());
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether root in container {@code name} is root on the host: false once it has an id range of its own,
     * else what its profiles say (null when they no longer compose).
     */
    public Boolean privilegedOf(String name) {
        if (records.get(name).idmapStart() != null) {
            return false;
        }
        try {
            return Launcher.privileged(composed(name).spec());
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** How many previous app revisions container {@code name}'s profile keeps, or null for the default. */
    public Integer appKeepOf(String name) {
        ProfileSpec.App app = composed(name).spec().app();
        return app == null ? null : app.keep();
    }

    /** The system container's mounts (path inside to read-only) that its app sees at the same paths. */
    static Map<String, Boolean> appBinds(ProfileSpec spec) {
        Map<String, Boolean> binds = new LinkedHashMap<>();
        if (spec.mounts() != null) {
            spec.mounts().forEach(m -> binds.put(m.path(), Boolean.TRUE.equals(m.readOnly())));
        }
        return binds;
    }

    public Map<String, Boolean> appBindsOf(String name) {
        return appBinds(composed(name).spec());
    }

    /** The init container {@code name}'s image runs (OTHER when it cannot be told). */
    public InitSystem initOf(String name) {
        try {
            return InitSystem.detect(images.get(records.get(name).imageFingerprint()).rootfs());
        } catch (IOException | RuntimeException e) {
            return InitSystem.OTHER;
        }
    }

    /** Container {@code name}'s address (its record's, else the managed network's), or null. */
    public String addressOf(String name) {
        try {
            String address = records.get(name).address();
            return address != null ? address : network == null ? null : network.addressOf(name);
        } catch (AgentException.NotFound e) {
            return null;
        }
    }

    /** The app image container {@code name}'s composed profiles name, if they have an app section. */
    public Optional<String> appImageOf(String name) {
        try {
            ProfileSpec.App app = composed(name).spec().app();
            return Optional.ofNullable(app == null ? null : app.image());
        } catch (RuntimeException e) {
            return Optional.empty(); // not Berth's, or its profiles no longer compose
        }
    }

    /** The containers made from image {@code fingerprint}, sorted. */
    public List<String> usingImage(String fingerprint) {
        return berthContainers(r -> fingerprint.equals(r.imageFingerprint()));
    }

    /**
     * The containers whose composed profiles name an app image that {@code matches} (a reference
     * as written: name[:tag][@digest]), sorted; containers whose profiles no longer compose are skipped.
     */
    public List<String> usingAppImage(Predicate<String> matches) {
        return runtime.names().stream().filter(name -> appImageOf(name).filter(matches).isPresent()).toList();
    }

    /** The containers whose records name profile {@code profile}, sorted. */
    public List<String> usedBy(String profile) {
        return usedByAny(Set.of(profile));
    }

    /** The containers whose records name any of {@code profiles}, sorted. */
    public List<String> usedByAny(Set<String> names) {
        return berthContainers(r -> r.profiles().stream().anyMatch(names::contains));
    }

    private List<String> berthContainers(Predicate<ContainerRecord> test) {
        List<String> found = new ArrayList<>();
        for (String name : runtime.names()) {
            try {
                if (test.test(records.get(name))) {
                    found.add(name);
                }
            } catch (AgentException.NotFound e) {
                // not made by Berth: on no Berth image, using no Berth profile
            }
        }
        return found;
    }
}
