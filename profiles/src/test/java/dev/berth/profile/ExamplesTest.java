package dev.berth.profile;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The shipped examples load, compose, render, and pass the checked-in JSON Schema. */
class ExamplesTest {

    static final Path EXAMPLES = Path.of("..", "examples", "profiles");

    static List<Path> exampleFiles() throws IOException {
        try (Stream<Path> files = Files.list(EXAMPLES)) {
            return files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
        }
    }

    static Composer examples() throws IOException {
        return Composer.of(exampleFiles().stream().map(ProfileDocument::load).toList());
    }

    @Test
    void everyExampleLoadsComposesAndRenders() throws IOException {
        Composer composer = examples();
        List<Path> files = exampleFiles();
        assertThat(files).extracting(f -> f.getFileName().toString())
                .contains("base-debian.yaml", "web.yaml", "database.yaml", "web-with-db.yaml");
        for (Path file : files) {
            ComposedProfile profile = composer.profile(ProfileDocument.load(file).name());
            assertThat(LxcConfig.render(profile, RenderingTest.V1, "10.0.3.9/24")).isNotEmpty();
            assertThat(LxcConfig.render(profile, RenderingTest.V2, "10.0.3.9/24")).isNotEmpty();
            AppSpec.from(profile.spec());
            PuppetSpec.from(profile);
        }
    }

    @Test
    void theExtendingExampleComposesAsDocumented() throws IOException {
        ComposedProfile p = examples().profile("web-with-db");
        assertThat(p.applied()).containsExactly("base-debian", "web", "database", "web-with-db");
        assertThat(p.spec().limits().memory().percent()).isEqualTo(25);       // database's, after web's 1GiB
        assertThat(p.spec().limits().pids()).isEqualTo(2048);                 // from base-debian
        assertThat(p.spec().mounts()).extracting(ProfileSpec.Mount::volume).containsExactly("app-data");
        assertThat(p.spec().labels()).doesNotContainKey("tier");
        assertThat(p.spec().network().forwards()).hasSize(1);                 // from web
        PuppetSpec puppet = PuppetSpec.from(p);
        assertThat(puppet.policy()).isEqualTo(ProfileSpec.DriftPolicy.REPORT);
        assertThat(puppet.manifest()).contains("Managed by Berth: database");  // read relative to database.yaml
    }

    @Test
    void theCheckedInSchemaIsCurrent() throws IOException {
        String generated = ProfileSchema.text();
        Path checkedIn = Path.of("src/main/resources" + ProfileSchema.RESOURCE);
        if (Boolean.getBoolean("berth.schema.write")) {
            Files.createDirectories(checkedIn.getParent());
            Files.writeString(checkedIn, generated);
        }
        assertThat(checkedIn).as("regenerate with: mvn -pl profiles test -Dtest=ExamplesTest -Dberth.schema.write=true")
                .exists();
        assertThat(Files.readString(checkedIn)).as("regenerate with: mvn -pl profiles test -Dtest=ExamplesTest -Dberth.schema.write=true")
                .isEqualTo(generated);
    }

    @Test
    void theSchemaAcceptsEveryExampleAndRejectsMistakes() throws IOException {
        JsonSchema schema;
        try (InputStream in = ProfileSchema.class.getResourceAsStream(ProfileSchema.RESOURCE)) {
            schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
                    .getSchema(new ObjectMapper().readTree(in));
        }
        YAMLMapper yaml = new YAMLMapper();
        for (Path file : exampleFiles()) {
            Set<ValidationMessage> errors = schema.validate(yaml.readTree(file.toFile()));
            assertThat(errors).as(file.toString()).isEmpty();
        }
        JsonNode typo = yaml.readTree("name: x\nlimts: {memory: 1G}\n");
        assertThat(schema.validate(typo)).extracting(ValidationMessage::getMessage).anyMatch(m -> m.contains("limts"));
        JsonNode badEnum = yaml.readTree("name: x\napp: {image: a, restart: sometimes}\n");
        assertThat(schema.validate(badEnum)).isNotEmpty();
        JsonNode badSize = yaml.readTree("name: x\nlimits: {memory: lots}\n");
        assertThat(schema.validate(badSize)).isNotEmpty();
        assertThat(new String(Files.readAllBytes(exampleFiles().getFirst()), StandardCharsets.UTF_8)).isNotBlank();
    }
}
