package dev.berth.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/** Backs {@link RequiresLxc}: checks the host once, then gives each test a fresh {@link LxcSandbox}. */
final class LxcSandboxExtension implements BeforeAllCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(LxcSandboxExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        if (!"root".equals(System.getProperty("user.name"))) {
            throw new IllegalStateException("LXC tests run as root (they create containers, cgroups and bridges)");
        }
        if (!Files.exists(Path.of("/usr/bin/lxc-destroy")) || !Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/liblxc.so.1"))
                && !Files.exists(Path.of("/usr/lib/aarch64-linux-gnu/liblxc.so.1"))) {
            throw new IllegalStateException("liblxc and the lxc tools are missing: run ./scripts/setup.sh (apt-get install lxc lxc-dev)");
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == LxcSandbox.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        // The store closes the sandbox when the test (or class, for a class-level parameter) ends,
        // whatever the outcome.
        return context.getStore(NS).getOrComputeIfAbsent(context.getUniqueId(), key -> {
            try {
                return LxcSandbox.create(context.getDisplayName());
            } catch (Exception e) {
                throw new ParameterResolutionException("could not set up an LXC sandbox: " + e.getMessage(), e);
            }
        }, LxcSandbox.class);
    }
}
