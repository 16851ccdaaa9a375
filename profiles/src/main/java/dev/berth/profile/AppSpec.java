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
                      String stopSignal, Duration stopGrace, Resources resources) {

    public AppSpec(String image, List<String> entrypoint, List<String> command, Map<String, String> env, String workdir, String user,
                   List<Integer> ports, HealthCheck health, Restart restart, String stopSignal, Duration stopGrace) {
        this(image, entrypoint, command, env, workdir, user, ports, health, restart, stopSignal, stopGrace, Resources.NONE);
    }

    /**
     * The app's own limits, resolved: memory in bytes, CPU as a count of CPUs' time or a set to pin
     * to, processes; null for "the container's".
     */
    public record Resources(Long memoryBytes, Double cpus, String cpuSet, Integer pids) {
        public static final Resources NONE = new Resources(null, null, null, null);
    }

    /** A health check with defaults filled; null in {@link AppSpec#health()} means "running is healthy". */
    public record HealthCheck(HealthType type, List<String> command, Integer port, String path, Duration interval,
                              Duration timeout, int retries) {
    }

    /** The same app from another image (an upgrade): the image's own entrypoint and command apply unless the profile set them. */
    public AppSpec withImage(String otherImage) {
        return new AppSpec(otherImage, entrypoint, command, env, workdir, user, ports, health, restart, stopSignal, stopGrace, resources);
    }

    /**
     * The app container of a composed profile, its limits resolved against the host's memory
     * ({@code hostMemoryBytes}, for a percentage) and checked against the container's own: an app
     * limit above its container's is an error naming both.
     */
    public static AppSpec from(ProfileSpec spec, long hostMemoryBytes) {
        AppSpec app = from(spec);
        if (app == null || spec.app().limits() == null) {
            return app;
        }
        ProfileSpec.Limits own = spec.app().limits();
        ProfileSpec.Limits box = spec.limits();
        Long memory = own.memory() == null ? null : own.memory().resolve(hostMemoryBytes);
        if (memory != null && box != null && box.memory() != null && memory > box.memory().resolve(hostMemoryBytes)) {
            throw new IllegalArgumentException("app.limits.memory (" + memory + " bytes) is above the container's limits.memory ("
                    + box.memory().resolve(hostMemoryBytes) + " bytes); lower it, or raise the container's");
        }
        Double cpus = own.cpu() == null ? null : own.cpu().count();
        if (cpus != null && box != null && box.cpu() != null && box.cpu().count() != null && cpus > box.cpu().count()) {
            throw new IllegalArgumentException("app.limits.cpu (" + cpus + ") is above the container's limits.cpu ("
                    + box.cpu().count() + "); lower it, or raise the container's");
        }
        Integer pids = own.pids();
        if (pids != null && box != null && box.pids() != null && pids > box.pids()) {
            throw new IllegalArgumentException("app.limits.pids (" + pids + ") is above the container's limits.pids ("
                    + box.pids() + "); lower it, or raise the container's");
        }
        return new AppSpec(app.image(), app.entrypoint(), app.command(), app.env(), app.workdir(), app.user(), app.ports(), app.health(),
                app.restart(), app.stopSignal(), app.stopGrace(),
                new Resources(memory, cpus, own.cpu() == null ? null : own.cpu().set(), pids));
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
