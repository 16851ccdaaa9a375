package dev.berth.agent.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.profile.AppSpec;
import dev.berth.profile.ProfileSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The OCI runtime config from an image's config and a profile's app section (crun runs it: CrunInContainerTest). */
@org.junit.jupiter.api.Tag("no-root")
class OciRuntimeConfigTest {

    private static AppSpec app(List<String> entrypoint, List<String> command, Map<String, String> env, String workdir, String user) {
        return new AppSpec("web:1", entrypoint, command, env, workdir, user, List.of(), null, ProfileSpec.Restart.ON_FAILURE,
                "SIGTERM", Duration.ofSeconds(10));
    }

    private static final AppImageStore.Config IMAGE = new AppImageStore.Config(List.of("/entry"), List.of("--serve", "80"),
            List.of("PATH=/bin", "MODE=image", "KEEP=1"), "/srv", "www", List.of("80/tcp"));

    @Test
    void dockersRulesForCommandEnvironmentDirectoryAndUser() {
        assertThat(OciRuntimeConfig.args(app(null, null, Map.of(), null, null), IMAGE)).containsExactly("/entry", "--serve", "80");
        assertThat(OciRuntimeConfig.args(app(null, List.of("--debug"), Map.of(), null, null), IMAGE)).containsExactly("/entry", "--debug");
        assertThat(OciRuntimeConfig.args(app(List.of("/other"), null, Map.of(), null, null), IMAGE))
                .as("a new entrypoint drops the image's CMD, as docker run --entrypoint does").containsExactly("/other");
        assertThatThrownBy(() -> OciRuntimeConfig.args(app(null, null, Map.of(), null, null),
                new AppImageStore.Config(List.of(), List.of(), List.of(), "", "", List.of())))
                .hasMessageContaining("names no command").hasMessageContaining("app: {command: [...]}");

        assertThat(OciRuntimeConfig.env(app(null, null, Map.of("MODE", "profile", "NEW", "2"), null, null), IMAGE))
                .containsExactly("PATH=/bin", "MODE=profile", "KEEP=1", "NEW=2");
        assertThat(OciRuntimeConfig.env(app(null, null, Map.of(), null, null),
                new AppImageStore.Config(List.of(), List.of("x"), List.of(), "", "", List.of()))).containsExactly(OciRuntimeConfig.DEFAULT_PATH);

        OciRuntimeConfig.Accounts accounts = OciRuntimeConfig.Accounts.of("root:x:0:0::/root:/bin/sh\nwww:x:33:34::/www:/bin/sh\n",
                "root:x:0:\nwww:x:34:\nstaff:x:50:\n");
        assertThat(OciRuntimeConfig.user("", accounts)).containsExactly(0, 0);
        assertThat(OciRuntimeConfig.user("www", accounts)).containsExactly(33, 34);
        assertThat(OciRuntimeConfig.user("www:staff", accounts)).containsExactly(33, 50);
        assertThat(OciRuntimeConfig.user("1000:1000", accounts)).containsExactly(1000, 1000);
        assertThat(OciRuntimeConfig.user("33", accounts)).as("a uid the image knows: its group").containsExactly(33, 34);
        assertThatThrownBy(() -> OciRuntimeConfig.user("nobody", accounts)).hasMessageContaining("'nobody' is not in the image's /etc/passwd");

        ObjectNode config = OciRuntimeConfig.render(app(null, null, Map.of(), null, null), IMAGE, accounts, "web1", "/usr/bin/catatonit");
        assertThat(config.at("/process/args").toString()).isEqualTo("[\"/dev/init\",\"--\",\"/entry\",\"--serve\",\"80\"]");
        assertThat(config.at("/process/user/uid").asInt()).isEqualTo(33);
        assertThat(config.at("/process/cwd").asText()).isEqualTo("/srv");
        assertThat(config.at("/linux/namespaces").findValuesAsText("type")).doesNotContain("network").contains("pid", "mount");
        assertThat(config.at("/process/capabilities/bounding").toString()).doesNotContain("CAP_SYS_ADMIN");
        assertThatThrownBy(() -> OciRuntimeConfig.render(app(null, null, Map.of(), "relative", null), IMAGE, accounts, "w", "/i"))
                .hasMessageContaining("must be absolute");
    }
}
