package dev.berth.profile;

import dev.berth.profile.ProfileSpec.App;
import dev.berth.profile.ProfileSpec.HealthType;
import dev.berth.profile.ProfileSpec.Restart;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The app container to run, with every default filled in: what the agent's app runtime consumes.
 * Null entrypoint, command, workdir or user mean "the image's own".
 */
public record AppSpec(String image, List<String> entrypoint, List<String> command, Map<String, String> env,
                      String workdir, String user, List<Integer> ports, HealthCheck health, Restart restart,
                      String stopSignal, Duration stopGrace) {

    /** A health check with defaults filled; null in {@link AppSpec#health()} means "running is healthy". */
    public record HealthCheck(HealthType type, List<String> command, Integer port, String path, Duration interval,
                              Duration timeout, int retries) {
    }

    /** The same app from another image (an upgrade): the image's own entrypoint and command apply unless the profile set them. */
    public AppSpec withImage(String otherImage) {
        return new AppSpec(otherImage, entrypoint, command, env, workdir, user, ports, health, restart, stopSignal, stopGrace);
    }

    /** The app container of a composed profile, or null when it declares none. */
    public static AppSpec from(ProfileSpec spec) {
        App app = spec.app();
        if (app == null) {
            return null;
        }
        HealthCheck health = null;
        if (app.health() != null) {
            var h = app.health();
            health = new HealthCheck(h.type(), h.command(), h.port(),
                    h.type() == HealthType.HTTP && h.path() == null ? "/" : h.path(),
                    h.interval() == null ? Duration.ofSeconds(10) : h.interval().duration(),
                    h.timeout() == null ? Duration.ofSeconds(3) : h.timeout().duration(),
                    h.retries() == null ? 3 : h.retries());
        }
        return new AppSpec(app.image(), app.entrypoint(), app.command(), app.env() == null ? Map.of() : app.env(),
                app.workdir(), app.user(), app.ports() == null ? List.of() : app.ports(), health,
                app.restart() == null ? Restart.ON_FAILURE : app.restart(),
                app.stopSignal() == null ? "SIGTERM" : app.stopSignal(),
                app.stopGrace() == null ? Duration.ofSeconds(10) : app.stopGrace().duration());
    }
}
