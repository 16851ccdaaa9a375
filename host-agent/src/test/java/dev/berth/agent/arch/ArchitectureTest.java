package dev.berth.agent.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The agent's package rules, as tests that fail when a change breaks them. */
@org.junit.jupiter.api.Tag("no-root")
class ArchitectureTest {

    private static JavaClasses agent;

    @BeforeAll
    static void importAgent() {
        agent = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.berth.agent");
    }

    @Test
    void thePackagesFormADag() {
        slices().matching("dev.berth.agent.(*)..").should().beFreeOfCycles().check(agent);
    }

    @Test
    void onlyTheRuntimeReachesLiblxc() {
        noClasses().that().resideOutsideOfPackage("dev.berth.agent.runtime..")
                .and().doNotHaveFullyQualifiedName("dev.berth.agent.api.ErrorMapper") // maps LxcException to a status
                .should().dependOnClassesThat().resideInAPackage("dev.berth.lxc..")
                .check(agent);
    }

    /** HTTP handlers call services that return records; none opens a container or its root itself. */
    @Test
    void theApiDoesNotReachTheRuntime() {
        noClasses().that().resideInAPackage("dev.berth.agent.api..")
                .should().dependOnClassesThat().resideInAPackage("dev.berth.agent.runtime..")
                .orShould().callMethod(dev.berth.agent.files.ContainerRoot.class, "ofProcess", String.class, int.class, int.class)
                .orShould().callMethod(dev.berth.agent.files.ContainerRoot.class, "of", String.class, java.nio.file.Path.class, int.class)
                .check(agent);
    }

    /** The one implementation of a running container's root is ContainerFiles'; the others ask it. */
    @Test
    void onlyContainerFilesOpensARunningContainersRoot() {
        noClasses().that().doNotHaveFullyQualifiedName("dev.berth.agent.container.ContainerFiles")
                .and().resideOutsideOfPackage("dev.berth.agent.net..")
                .should().callMethod(dev.berth.agent.files.ContainerRoot.class, "ofProcess", String.class, int.class, int.class)
                .check(agent);
    }

    /** No main source file of the agent is over 500 lines: a class that grows past it has more than one job. */
    @Test
    void noSourceFileIsOver500Lines() throws java.io.IOException {
        java.nio.file.Path sources = java.nio.file.Path.of("src/main/java");
        java.util.List<String> tooLong = new java.util.ArrayList<>();
        try (var files = java.nio.file.Files.walk(sources)) {
            for (java.nio.file.Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                long lines;
                try (var l = java.nio.file.Files.lines(file)) {
                    lines = l.count();
                }
                if (lines > 500) {
                    tooLong.add(sources.relativize(file) + " (" + lines + " lines)");
                }
            }
        }
        org.assertj.core.api.Assertions.assertThat(java.nio.file.Files.isDirectory(sources)).as("run from host-agent/").isTrue();
        org.assertj.core.api.Assertions.assertThat(tooLong).as("main source files over 500 lines").isEmpty();
    }

    @Test
    void theApiModelKnowsNothingElseOfTheAgent() {
        classes().that().resideInAPackage("dev.berth.agent.api.model..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("dev.berth.agent.api.model..", "java..")
                .check(agent);
    }
}
