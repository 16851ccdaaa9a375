package dev.berth.profile;

import dev.berth.profile.ProfileSpec.DriftPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The Puppet configuration of a composed profile, ready for the bridge: the manifest's text (an
 * inline manifest, or the file read relative to the profile file that named it), the modules path,
 * facts, data, and the drift policy with its interval.
 */
public record PuppetSpec(String manifest, Path modulePath, Map<String, Object> facts, Map<String, Object> data,
                         DriftPolicy policy, Duration interval, Duration timeout, String binary) {

    public PuppetSpec(String manifest, Path modulePath, Map<String, Object> facts, Map<String, Object> data, DriftPolicy policy,
                      Duration interval) {
        this(manifest, modulePath, facts, data, policy, interval, Duration.ofMinutes(10), "puppet");
    }

    /** The Puppet spec of {@code profile}, or null when it declares none. */
    public static PuppetSpec from(ComposedProfile profile) {
        ProfileSpec.Puppet puppet = profile.spec().puppet();
        if (puppet == null) {
            return null;
        }
        Node.MapNode section = (Node.MapNode) profile.tree().get("puppet");
        String manifest = puppet.manifest();
        if (manifest == null) {
            Node at = section.get("manifest-file");
            Path file = relativeTo(at, puppet.manifestFile());
            try {
                manifest = Files.readString(file);
            } catch (IOException e) {
                throw new ProfileException(new Problem(at.location(), "puppet.manifest-file",
                        "cannot read " + file + ": " + e.getMessage(), "the path is relative to the profile file"));
            }
        }
        Path modulePath = puppet.modulePath() == null ? null : relativeTo(section.get("module-path"), puppet.modulePath());
        return new PuppetSpec(manifest, modulePath, puppet.facts() == null ? Map.of() : puppet.facts(),
                puppet.data() == null ? Map.of() : puppet.data(),
                puppet.policy() == null ? DriftPolicy.REPORT : puppet.policy(),
                puppet.interval() == null ? Duration.ofMinutes(30) : puppet.interval().duration(),
                puppet.timeout() == null ? Duration.ofMinutes(10) : puppet.timeout().duration(),
                puppet.binary() == null ? "puppet" : puppet.binary());
    }

    private static Path relativeTo(Node node, String path) {
        Path declaredIn = Path.of(node.location().file()).toAbsolutePath().getParent();
        return declaredIn.resolve(path).normalize();
    }
}
