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

    /**
     * HTTP handlers call services; none opens a container itself. Exec's streams and the files API still
     * do (they move behind services next): the two named exceptions, so that no third appears.
     */
    @Test
    void theApiDoesNotReachTheRuntimeButForExecAndFiles() {
        noClasses().that().resideInAPackage("dev.berth.agent.api..")
                .and().doNotHaveFullyQualifiedName("dev.berth.agent.api.ExecRoutes")
                .and().doNotHaveFullyQualifiedName("dev.berth.agent.api.FileRoutes")
                .and().haveNameNotMatching("dev\\.berth\\.agent\\.api\\.(ExecRoutes|FileRoutes)\\$.*")
                .should().dependOnClassesThat().resideInAPackage("dev.berth.agent.runtime..")
                .check(agent);
    }

    @Test
    void theApiModelKnowsNothingElseOfTheAgent() {
        classes().that().resideInAPackage("dev.berth.agent.api.model..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("dev.berth.agent.api.model..", "java..")
                .check(agent);
    }
}
