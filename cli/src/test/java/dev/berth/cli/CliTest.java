package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.agent.Berthd;
import dev.berth.testing.LxcSandbox;
import dev.berth.testing.RequiresLxc;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Each command of {@code berth} against a real in-process agent with real containers, a fresh
 * {@link CommandLine} per command, asserting what a person and a script would see.
 */
@RequiresLxc
class CliTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Berthd agent;
    private Path socket;

    /** What one command printed, and its exit code. */
    record Run(int code, String out, String err) {
        JsonNode json() throws Exception {
            return JSON.readTree(out);
        }
    }

    private void startAgent(LxcSandbox sandbox) throws Exception {
        Path state = sandbox.scratch("state");
        socket = state.resolve("berth.sock");
        agent = new Berthd(Berthd.Settings.at(state, sandbox.lxcpath(), socket)).start();
    }

    @AfterEach
    void stopAgent() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    private Run berth(String... args) {
        List<String> all = new ArrayList<>(List.of("--socket", socket.toString()));
        all.addAll(List.of(args));
        return run(all.toArray(String[]::new));
    }

    static Run run(String... args) {
        CommandLine cmd = Berth.commandLine(args);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int code = cmd.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void containersFromLaunchToDelete(LxcSandbox sandbox) throws Exception {
        startAgent(sandbox);
        String web = sandbox.name("web");
        String db = sandbox.name("db");

        Run launched = berth("launch", web, "--set", "limits.memory=64MiB");
        assertThat(launched.code()).as(launched.err()).isZero();
        assertThat(launched.out()).matches("Launched " + web + " in \\d+( ms|\\.\\d+ s)\\R");
        assertThat(berth("launch", db, "-q", "-p", "default").out()).isEmpty();

        Run table = berth("list");
        assertThat(table.out().lines().toList()).hasSize(3);
        assertThat(table.out().lines().findFirst().orElseThrow()).startsWith("NAME").contains("STATE", "IMAGE", "PROFILES");
        assertThat(table.out()).containsPattern(web + "\\s+RUNNING\\s+-\\s+-\\s+-\\s+[0-9a-f]{12}\\s+default"); // no address: no managed network here

        JsonNode json = berth("list", "--format", "json").json();
        assertThat(json).hasSize(2);
        assertThat(json.get(0).get("status").asText()).isEqualTo("RUNNING");
        assertThat(json.get(0).get("pid").asInt()).isPositive();
        assertThat(berth("list", "--format", "csv", "-c", "name,state", "--no-header", web).out())
                .isEqualTo(web + ",RUNNING\n");
        assertThat(berth("list", "--format", "yaml", "state=running").out()).contains("name: " + web, "name: " + db);

        Run info = berth("info", web);
        assertThat(info.out()).contains("State:      RUNNING", "of 64.0 MiB", "Processes:", "Privileged: no (root inside is a host uid");
        assertThat(berth("info", web, "--format", "json").json().get("state").get("memoryLimit").asLong()).isEqualTo(64L << 20);

        Run exec = berth("exec", web, "--env", "WHO=berth", "--", "sh", "-c", "echo hello $WHO; echo oops >&2; exit 7");
        assertThat(exec.code()).isEqualTo(7);
        assertThat(exec.out()).isEqualTo("hello berth\n");
        assertThat(exec.err()).isEqualTo("oops\n");

        assertThat(berth("freeze", web).out()).startsWith("Froze " + web);
        assertThat(berth("list", "-c", "name,state", "--no-header", "--format", "csv", web).out()).isEqualTo(web + ",FROZEN\n");
        assertThat(berth("unfreeze", web).code()).isZero();
        Run stopped = berth("stop", "--all", "--force");
        assertThat(stopped.out()).contains("Stopped " + web, "Stopped " + db);
        assertThat(berth("list", "state=stopped", "--format", "json").json()).hasSize(2);
        assertThat(berth("start", web, db).code()).isZero();
        assertThat(berth("restart", db, "--timeout", "5").out()).startsWith("Restarted " + db);

        Run deleted = berth("delete", web, db, "--force");
        assertThat(deleted.code()).as(deleted.err()).isZero();
        assertThat(deleted.out()).contains("Deleted " + web, "Deleted " + db);
        assertThat(berth("list", "--format", "json").json()).isEmpty();
        assertThat(LxcSandbox.containersIn(sandbox.lxcpath())).isEmpty();
    }

    @Test
    void errorsSayWhatWentWrongWithDistinctExitCodes(LxcSandbox sandbox) throws Exception {
        startAgent(sandbox);
        String web = sandbox.name("web");

        // every command takes --help (inherited from the root), and a typo gets a suggestion
        for (String[] help : List.of(new String[] {"list", "--help"}, new String[] {"launch", "-h"}, new String[] {"volume", "list", "--help"},
                new String[] {"image", "alias", "add", "--help"}, new String[] {"--help"})) {
            Run usage = berth(help);
            assertThat(usage.code()).as(String.join(" ", help)).isZero();
            assertThat(usage.out()).startsWith("Usage: berth").contains("-h, --help");
        }
        assertThat(berth("lsit").err()).contains("Did you mean: berth ls");

        Run unknownFlag = berth("list", "--colour");
        assertThat(unknownFlag.code()).isEqualTo(Berth.USAGE);
        assertThat(unknownFlag.err()).contains("Unknown option: '--colour'");
        Run missingName = berth("launch");
        assertThat(missingName.code()).isEqualTo(Berth.USAGE);
        assertThat(missingName.err()).contains("Missing required parameter: 'NAME'");
        Run badSet = berth("launch", web, "--set", "limits.memory");
        assertThat(badSet.code()).isEqualTo(Berth.USAGE);
        assertThat(badSet.err()).contains("--set takes KEY=VALUE", "See 'berth launch --help'");
        Run badKey = berth("launch", web, "--set", "limits.memroy=1GiB");
        assertThat(badKey.code()).as("the agent's 400").isEqualTo(Berth.USAGE);
        assertThat(badKey.err()).contains("memroy");
        assertThat(berth("stop").err()).contains("name the containers, or give --all");

        Run notFound = berth("info", "nosuch");
        assertThat(notFound.code()).isEqualTo(Berth.NOT_FOUND);
        assertThat(notFound.err()).isEqualTo("error: no container \"nosuch\"\n");
        assertThat(berth("launch", web, "-p", "nosuch").err()).contains("nosuch");

        assertThat(berth("launch", web, "-q").code()).isZero();
        Run conflict = berth("launch", web);
        assertThat(conflict.code()).isEqualTo(Berth.CONFLICT);
        assertThat(conflict.err()).contains("already exists");
        Run partly = berth("delete", "nosuch", web, "--force");
        assertThat(partly.code()).as("the first failure's code; the rest still done").isEqualTo(Berth.NOT_FOUND);
        assertThat(partly.out()).contains("Deleted " + web);

        Run down = run("--socket", sandbox.scratch("nothing").resolve("berth.sock").toString(), "list");
        assertThat(down.code()).isEqualTo(Berth.UNREACHABLE);
        assertThat(down.err()).startsWith("error: cannot reach berthd on ").contains("is it running?");
        assertThat(run("--socket", "/nonexistent/berth.sock", "version").out()).contains("Agent:  unreachable");
        assertThat(berth("version", "--format", "json").json().get("agent").asText()).isNotBlank();
    }

    @Test
    void profilesAreValidatedOfflineAndManagedThroughTheAgent(LxcSandbox sandbox) throws Exception {
        Path dir = sandbox.scratch("profiles");
        Path good = Files.writeString(dir.resolve("small.yaml"), "name: small\nlimits: {memory: 64MiB}\n");
        Path child = Files.writeString(dir.resolve("child.yaml"), "name: child\nextends: [small]\nlimits: {pids: 50}\n");
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "name: bad\nlimits:\n  memroy: 1GiB\n");

        // No agent at all: validate works offline.
        Run offline = run("--socket", "/nonexistent/berth.sock", "profile", "validate", good.toString(), child.toString());
        assertThat(offline.code()).as(offline.err()).isZero();
        assertThat(offline.out()).contains("OK " + good, "OK " + child);
        Run invalid = run("profile", "validate", good.toString(), bad.toString());
        assertThat(invalid.code()).isEqualTo(Berth.USAGE);
        assertThat(invalid.err()).contains(bad + ":3:3", "memroy", "memory").contains("1 of 2 files invalid");

        startAgent(sandbox);
        Run applied = berth("profile", "apply", "-f", good.toString(), child.toString());
        assertThat(applied.code()).as(applied.err()).isZero();
        assertThat(applied.out()).contains("Created profile small", "Created profile child");
        assertThat(berth("profile", "show", "small").out()).isEqualTo(Files.readString(good));
        Run list = berth("profile", "list");
        assertThat(list.out()).containsPattern("small\\s+-\\s+-\\s+child");
        assertThat(berth("profile", "list", "--format", "json").json()).extracting(p -> p.get("name").asText())
                .contains("default", "small", "child");

        String web = sandbox.name("web");
        assertThat(berth("launch", web, "-p", "default", "-p", "child", "-q").code()).isZero();
        Files.writeString(good, "name: small\nlimits: {memory: 96MiB}\n");
        Run updated = berth("profile", "apply", "-f", good.toString());
        assertThat(updated.out()).contains("Updated profile small; applied to " + web);
        assertThat(berth("info", web, "--format", "json").json().get("state").get("memoryLimit").asLong()).isEqualTo(96L << 20);

        // envelope drift (no Puppet in busybox): in sync, then a limit changed live is found, then reconciled
        Run clean = berth("drift", "check", web);
        assertThat(clean.code()).as(clean.err()).isZero();
        assertThat(clean.out()).contains("Status:     in-sync", "policy report");
        try (dev.berth.lxc.LxcContainer c = dev.berth.lxc.Lxc.open(web, sandbox.lxcpath())) {
            c.setCgroupItem("memory.limit_in_bytes", Long.toString(80L << 20));
        }
        Run drifted = berth("drift", "check", web);
        assertThat(drifted.code()).isEqualTo(DriftCommand.DRIFTED);
        assertThat(drifted.out()).contains("Status:     drifted (1 resource)")
                .containsPattern("cgroup memory.limit_in_bytes\\s+value\\s+" + (80L << 20) + "\\s+" + (96L << 20) + "\\s+no");
        assertThat(berth("list", web).out()).containsPattern("drifted\\(1\\)");
        assertThat(berth("drift", web, "--format", "json").json().path("status").asText()).isEqualTo("drifted");
        Run reconciled = berth("drift", "reconcile", web);
        assertThat(reconciled.code()).as(reconciled.err()).isZero();
        assertThat(reconciled.out()).contains("Status:     corrected (1 resource)").containsPattern("\\s+yes\\s");
        assertThat(berth("info", web, "--format", "json").json().get("state").get("memoryLimit").asLong()).isEqualTo(96L << 20);
        Run all = berth("drift", "check", "--all", "--format", "json");
        assertThat(all.code()).as(all.err()).isZero();
        assertThat(all.json()).extracting(r -> r.path("container").asText() + " " + r.path("status").asText()).contains(web + " in-sync");
        Run noName = berth("drift", "check");
        assertThat(noName.code()).isEqualTo(Berth.USAGE);
        assertThat(noName.err()).contains("--all");

        Run inUse = berth("profile", "delete", "small");
        assertThat(inUse.code()).isEqualTo(Berth.CONFLICT);
        assertThat(berth("profile", "create", "empty").out()).isEqualTo("Created profile empty\n");
        assertThat(berth("profile", "delete", "empty").code()).isZero();
        assertThat(berth("profile", "show", "empty").code()).isEqualTo(Berth.NOT_FOUND);
        assertThat(berth("delete", web, "--force").code()).isZero();
    }

    @Test
    void imagesAliasesAndOperations(LxcSandbox sandbox) throws Exception {
        startAgent(sandbox);
        Run built = berth("image", "build", "busybox", "--alias", "tiny");
        assertThat(built.code()).as(built.err()).isZero();
        assertThat(built.out()).matches("Built image [0-9a-f]{12} busybox,tiny in \\d+( ms|\\.\\d+ s)\\R");
        assertThat(berth("image", "list").out()).containsPattern("[0-9a-f]{12}\\s+busybox,tiny\\s+\\d");
        assertThat(berth("image", "alias", "add", "small", "tiny").code()).isZero();
        assertThat(berth("image", "alias", "list", "--format", "csv").out()).contains("small,", "tiny,");
        assertThat(berth("image", "alias", "remove", "small").code()).isZero();
        assertThat(berth("image", "delete", "nosuch").code()).isEqualTo(Berth.NOT_FOUND);

        // import a root filesystem archive made here, list it, delete it; an image in use is refused
        Path rootfs = sandbox.scratch("rootfs");
        Files.createDirectories(rootfs.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), rootfs.resolve("bin/busybox"));
        Files.createSymbolicLink(rootfs.resolve("bin/sh"), Path.of("busybox"));
        Path archive = sandbox.scratch("archives").resolve("mini.tar");
        Process tar = new ProcessBuilder("tar", "-C", rootfs.toString(), "-cf", archive.toString(), ".").inheritIO().start();
        assertThat(tar.waitFor()).isZero();
        Run imported = berth("image", "import", archive.toString(), "--alias", "mini");
        assertThat(imported.code()).as(imported.err()).isZero();
        assertThat(imported.out()).matches("Imported image [0-9a-f]{12} mini in \\d+( ms|\\.\\d+ s)\\R");
        assertThat(berth("image", "list", "--format", "json").json()).anySatisfy(i -> assertThat(i.toString()).contains("\"mini\""));
        assertThat(berth("image", "import", sandbox.scratch("archives").resolve("none.tar").toString()).code()).isEqualTo(Berth.USAGE);
        assertThat(berth("image", "delete", "mini").code()).isZero();
        assertThat(berth("image", "list").out()).doesNotContain("mini");
        String user = sandbox.name("user");
        assertThat(berth("launch", user, "--image", "tiny", "-q").code()).isZero();
        Run inUse = berth("image", "delete", "tiny");
        assertThat(inUse.code()).isEqualTo(Berth.CONFLICT);
        assertThat(inUse.err()).contains(user);
        assertThat(berth("delete", "--force", user).code()).isZero();

        JsonNode operations = berth("operation", "list", "--format", "json").json();
        assertThat(operations).isNotEmpty();
        String id = operations.get(0).get("id").asText();
        Run waited = berth("operation", "wait", id);
        assertThat(waited.code()).isZero();
        assertThat(waited.out()).isEqualTo("Operation " + id + " success\n");
        assertThat(berth("operation", "cancel", id).code()).as("finished: cannot be cancelled").isEqualTo(Berth.CONFLICT);
        assertThat(berth("operation", "wait", "nosuch").code()).isEqualTo(Berth.NOT_FOUND);
    }

    @Test
    void appImagesAreImportedListedAndDeleted(LxcSandbox sandbox) throws Exception {
        startAgent(sandbox);
        Path dir = sandbox.scratch("app-images");
        Path oci = dir.resolve("web-1.oci.tar");
        String digest = dev.berth.testing.OciImageFixture.writeOciArchive(
                dev.berth.testing.OciImageFixture.busyboxHttpd("web", "1", "one", 8080), oci);
        Run imported = berth("app", "image", "import", oci.toString());
        assertThat(imported.code()).as(imported.err()).isZero();
        assertThat(imported.out()).matches("Imported app image web:1 " + digest + " in \\d+( ms|\\.\\d+ s)\\R");
        Path docker = dir.resolve("web-2.docker.tar");
        dev.berth.testing.OciImageFixture.writeDockerArchive(dev.berth.testing.OciImageFixture.busyboxHttpd("web", "2", "two", 8080), docker);
        assertThat(berth("app", "image", "import", docker.toString(), "--name", "shop/web:2").code()).isZero();

        JsonNode listed = berth("app", "image", "list", "--format", "json").json();
        assertThat(listed).extracting(i -> i.get("reference").asText()).containsExactlyInAnyOrder("web:1", "shop/web:2");
        assertThat(listed).anySatisfy(i -> {
            assertThat(i.get("digest").asText()).isEqualTo(digest);
            assertThat(i.get("config").get("cmd").toString()).contains("httpd");
            assertThat(i.get("layers").asInt()).isEqualTo(2);
        });
        assertThat(berth("app", "image", "list").out()).containsPattern("web:1\\s+" + digest.substring(7, 19) + "\\s+\\d");

        // tampered: refused, naming the layer's digest; the operation failed (exit 6); nothing added
        Path tampered = dir.resolve("tampered.tar");
        String layer = dev.berth.testing.OciImageFixture.writeTamperedOciArchive(
                dev.berth.testing.OciImageFixture.busyboxHttpd("evil", "1", "x", 8080), tampered);
        Run refused = berth("app", "image", "import", tampered.toString());
        assertThat(refused.code()).isEqualTo(Berth.FAILED);
        assertThat(refused.err()).contains("layer " + layer + " does not match its digest");
        JsonNode afterRefusal = berth("app", "image", "list", "--format", "json").json();
        assertThat(afterRefusal).as("the list after a refused import: %s", afterRefusal).hasSize(2);
        Run badName = berth("app", "image", "import", oci.toString(), "--name", "Web");
        assertThat(badName.code()).isEqualTo(Berth.USAGE);
        assertThat(badName.err()).contains("lower-case");

        // an image a container's profile names cannot be deleted
        Path profile = Files.writeString(dir.resolve("shop.yaml"), "name: shop\napp:\n  image: shop/web:2\n"
                + "  health: {type: command, command: [/bin/busybox, wget, -qO-, 'http://127.0.0.1:8080/'], interval: 1s}\n");
        assertThat(berth("profile", "apply", "-f", profile.toString()).code()).isZero();
        String shop = sandbox.name("shop");
        Run launchedShop = berth("launch", shop, "-p", "default", "-p", "shop", "-q");
        assertThat(launchedShop.code()).as(launchedShop.err()).isZero();
        // the app runs under crun inside the system container and shares its network: its page is at the container's loopback
        Run page = berth("exec", shop, "--", "wget", "-qO-", "http://127.0.0.1:8080/");
        assertThat(page.code()).as(page.err()).isZero();
        assertThat(page.out()).isEqualTo("two\n");
        assertThat(berth("info", shop).out()).containsPattern("App:        shop/web:2 \\(revision 1, [0-9a-f]{12}\\), (starting|healthy)");
        assertThat(berth("info", shop, "--format", "json").json().at("/state/app/status").asText()).isEqualTo("running");
        assertThat(berth("list", shop).out()).containsPattern("APP").containsPattern(shop + "\\s+RUNNING\\s+\\S+\\s+(starting|healthy)\\s");
        // the app's own verbs: status, exec inside it, logs, restart, upgrade and rollback
        assertThat(berth("app", "status", shop).out()).contains("State:      running", "* 1  shop/web:2").containsPattern("Health:     (starting|healthy)");
        Run inApp = berth("app", "exec", shop, "--", "busybox", "cat", "/www/index.html");
        assertThat(inApp.code()).as(inApp.err()).isZero();
        assertThat(inApp.out()).isEqualTo("two\n");
        assertThat(berth("app", "exec", shop, "--", "busybox", "sh", "-c", "echo $APP_CONTENT").out()).isEqualTo("two\n");
        Run restarted = berth("app", "restart", shop);
        assertThat(restarted.code()).as(restarted.err()).isZero();
        assertThat(restarted.out()).startsWith("Restarted the app in " + shop);
        Run upgraded = berth("app", "upgrade", shop, "--image", "web:1");
        assertThat(upgraded.code()).as(upgraded.err()).isZero();
        assertThat(upgraded.out()).contains("Upgraded the app in " + shop + " to web:1 (revision 2, healthy)");
        // the image the running revision came from is in use, though no profile names it
        Run running = berth("app", "image", "delete", "web:1");
        assertThat(running.code()).isEqualTo(Berth.CONFLICT);
        assertThat(running.err()).contains("used by " + shop);
        assertThat(berth("exec", shop, "--", "wget", "-qO-", "http://127.0.0.1:8080/").out()).isEqualTo("one\n");
        assertThat(berth("info", shop).out()).as("the running revision's image").containsPattern("App:        web:1 \\(revision 2, ");
        Run rolledBack = berth("app", "rollback", shop);
        assertThat(rolledBack.code()).as(rolledBack.err()).isZero();
        assertThat(rolledBack.out()).contains("Rolled back the app in " + shop + " to revision 1 (shop/web:2, healthy)");
        assertThat(berth("exec", shop, "--", "wget", "-qO-", "http://127.0.0.1:8080/").out()).isEqualTo("two\n");
        Run logs = berth("app", "logs", shop, "-n", "all");
        assertThat(logs.code()).as(logs.err()).isZero();
        Run nothingBefore = berth("app", "rollback", shop, "--to", "7");
        assertThat(nothingBefore.code()).isNotZero();
        assertThat(nothingBefore.err()).contains("no revision 7", "[1, 2]");
        Run noApp = berth("app", "status", "nosuch");
        assertThat(noApp.code()).isNotZero();
        assertThat(noApp.err()).contains("no container");
        assertThat(berth("exec", shop, "--", "sh", "-c", "ps -o args | grep -c '^/dev/init -- /bin/busybox httpd'").out()).isEqualTo("1\n");
        // a pinned profile refuses any other image, before anything is made; a missing image is named
        JsonNode shopImage = berth("app", "image", "list", "--format", "json").json();
        String shopDigest = java.util.stream.StreamSupport.stream(shopImage.spliterator(), false)
                .filter(i -> i.get("reference").asText().equals("shop/web:2")).findFirst().orElseThrow().get("digest").asText();
        Path pinned = Files.writeString(dir.resolve("pinned.yaml"), "name: pinned\napp:\n  image: shop/web:2@" + digest + "\n");
        Path missing = Files.writeString(dir.resolve("missing.yaml"), "name: missing\napp:\n  image: nosuch:1\n");
        assertThat(berth("profile", "apply", "-f", pinned.toString(), missing.toString()).code()).isZero();
        Run wrongPin = berth("launch", sandbox.name("pin"), "-p", "default", "-p", "pinned");
        assertThat(wrongPin.code()).isEqualTo(Berth.USAGE);
        assertThat(wrongPin.err()).contains("pins shop/web:2@" + digest, "shop/web:2 is " + shopDigest);
        Run noImage = berth("launch", sandbox.name("pin"), "-p", "default", "-p", "missing");
        assertThat(noImage.code()).isEqualTo(Berth.NOT_FOUND);
        assertThat(noImage.err()).contains("no app image nosuch:1", "berth app image import");
        assertThat(berth("list", "--names").out()).doesNotContain(sandbox.name("pin"));

        Run inUse = berth("app", "image", "delete", "shop/web:2");
        assertThat(inUse.code()).isEqualTo(Berth.CONFLICT);
        assertThat(inUse.err()).contains("used by " + shop);
        assertThat(berth("delete", "--force", shop).code()).isZero();
        assertThat(berth("app", "image", "delete", "shop/web:2", digest.substring(7, 19)).out())
                .contains("Deleted app image shop/web:2", "Deleted app image " + digest.substring(7, 19));
        assertThat(berth("app", "image", "list", "--format", "json").json()).isEmpty();
        assertThat(berth("app", "image", "delete", "web:1").code()).isEqualTo(Berth.NOT_FOUND);
    }

    @Test
    void eventsAreFollowed(LxcSandbox sandbox) throws Exception {
        startAgent(sandbox);
        String web = sandbox.name("web");
        var events = java.util.concurrent.CompletableFuture.supplyAsync(() -> berth("events", "--type", "lifecycle", "--count", "2"));
        Thread.sleep(300);
        assertThat(berth("launch", web, "-q").code()).isZero();
        assertThat(berth("delete", web, "--force", "-q").code()).isZero();
        Run followed = events.get(30, TimeUnit.SECONDS);
        assertThat(followed.out().lines().toList()).hasSize(2);
        assertThat(followed.out()).contains("lifecycle container-created /1.0/containers/" + web,
                "lifecycle container-deleted /1.0/containers/" + web);
    }

    @Test
    void filesSnapshotsCopiesVolumesAndStreamedExec(LxcSandbox sandbox) throws Exception {
        startAgent(sandbox);
        String web = sandbox.name("web");
        assertThat(berth("launch", web, "-q").code()).isZero();

        // Streamed exec: output of any size as it comes, stderr apart, the exit code passed through.
        Run big = berth("exec", web, "--", "sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' x; echo; echo done >&2; exit 4");
        assertThat(big.code()).isEqualTo(4);
        assertThat(big.out()).hasSize(3_000_001);
        assertThat(big.err()).isEqualTo("done\n");
        assertThat(berth("exec", web, "--timeout", "1", "--", "sleep", "20").code()).isEqualTo(137);

        // Files both ways, with the mode kept; a directory tree with -r.
        Path local = sandbox.scratch("local");
        Files.writeString(local.resolve("motd"), "welcome\n");
        Run pushed = berth("file", "push", local.resolve("motd").toString(), web + "/etc/motd", "--mode", "0640");
        assertThat(pushed.code()).as(pushed.err()).isZero();
        assertThat(pushed.out()).startsWith("Pushed ");
        assertThat(berth("exec", web, "--", "stat", "-c", "%a", "/etc/motd").out()).isEqualTo("640\n");
        assertThat(berth("file", "pull", web + "/etc/motd", "-").out()).isEqualTo("welcome\n");
        Path tree = Files.createDirectories(local.resolve("tree/sub"));
        Files.writeString(tree.resolve("x.txt"), "x");
        assertThat(berth("file", "push", "-r", local.resolve("tree").toString(), web + "/srv/tree").code()).isZero();
        Path back = local.resolve("back");
        assertThat(berth("file", "pull", "-r", web + "/srv/tree", back.toString()).code()).isZero();
        assertThat(back.resolve("sub/x.txt")).hasContent("x");
        Run escape = berth("file", "pull", web + "/../etc/shadow", "-");
        assertThat(escape.code()).isEqualTo(Berth.ERROR);
        assertThat(escape.err()).contains("refused");
        assertThat(berth("file", "push", local.resolve("tree").toString(), web + "/srv/t2").err()).contains("add -r");

        // Snapshots, restore, a copy from a snapshot.
        Run snap = berth("snapshot", "create", web, "first");
        assertThat(snap.out()).startsWith("Snapshot first of " + web + " taken in ");
        berth("exec", web, "--", "rm", "/etc/motd");
        assertThat(berth("snapshot", "list", web).out()).contains("NAME", "first");
        assertThat(berth("snapshot", "restore", web, "first").out()).startsWith("Restored " + web + " to first");
        assertThat(berth("file", "pull", web + "/etc/motd", "-").out()).isEqualTo("welcome\n");
        String copy = sandbox.name("copy");
        assertThat(berth("copy", web + "/first", copy, "--ephemeral").out()).startsWith("Copied ");
        assertThat(berth("info", copy).out()).contains("Ephemeral:  yes");
        assertThat(berth("file", "pull", copy + "/etc/motd", "-").out()).isEqualTo("welcome\n");
        assertThat(berth("stop", copy, "--force").code()).isZero();
        assertThat(berth("info", copy).code()).as("an ephemeral copy is gone once stopped").isEqualTo(Berth.NOT_FOUND);
        assertThat(berth("snapshot", "restore", web, "nope").code()).isEqualTo(Berth.FAILED);
        assertThat(berth("snapshot", "delete", web, "first").code()).isZero();

        // Volumes.
        assertThat(berth("volume", "create", "cache").out()).isEqualTo("Created volume cache\n");
        assertThat(berth("volume", "list", "--format", "json").json().get(0).get("name").asText()).isEqualTo("cache");
        assertThat(berth("volume", "create", "cache").code()).isEqualTo(Berth.CONFLICT);
        assertThat(berth("volume", "delete", "cache").code()).isZero();
        assertThat(berth("delete", "--force", web).code()).isZero();
    }
}
