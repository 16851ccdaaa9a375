package dev.berth.agent.net;

import dev.berth.agent.error.AgentException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.agent.store.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The managed bridge's address book: one IPv4 address per container, kept in a file in the state
 * dir (written whole and renamed), so that a container keeps its address across its restarts and
 * the agent's. An address is taken back only when its container is deleted; until then nobody else
 * gets it.
 */
public final class Ipam {

    private static final ObjectMapper JSON = dev.berth.agent.store.Json.MAPPER;

    private final Path file;
    private final Subnet subnet;
    private final TreeMap<String, Integer> leases = new TreeMap<>();

    private record Saved(String subnet, Map<String, String> leases) {
    }

    public Ipam(Path file, Subnet subnet) {
        this.file = file;
        this.subnet = subnet;
        if (Files.exists(file)) {
            try {
                Saved saved = JSON.readValue(file.toFile(), Saved.class);
                if (saved.leases() != null) {
                    saved.leases().forEach((name, address) -> leases.put(name, Subnet.address(address)));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the address book " + file + ": " + e.getMessage()
                        + "; fix or remove it (containers then get new addresses)", e);
            }
        }
    }

    public Subnet subnet() {
        return subnet;
    }

    /**
     * The address of {@code name}: the one it has, or {@code requested} (checked), or the lowest free one.
     *
     * @param requested a static address from the profile, or null for any
     * @throws AgentException.Conflict if {@code requested} belongs to another container
     * @throws AgentException.Invalid  if {@code requested} is not assignable on the subnet, or the subnet is full
     */
    public synchronized String allocate(String name, String requested) {
        Integer held = leases.get(name);
        if (requested != null) {
            int wanted = Subnet.address(requested);
            if (!subnet.assignable(wanted)) {
                throw new AgentException.Invalid("address " + requested + " is not usable on the managed bridge's subnet " + subnet
                        + " (outside it, or its network, broadcast or bridge address); pick another or use ipv4: auto");
            }
            for (var lease : leases.entrySet()) {
                if (lease.getValue() == wanted && !lease.getKey().equals(name)) {
                    throw new AgentException.Conflict("address " + requested + " is already container " + lease.getKey()
                            + "'s; pick another or use ipv4: auto", null);
                }
            }
            if (held != null && held == wanted) {
                return requested;
            }
            leases.put(name, wanted);
            save();
            return requested;
        }
        if (held != null) {
            return Subnet.text(held);
        }
        Set<Integer> taken = new java.util.HashSet<>(leases.values());
        for (int a = subnet.network() + 1; a < subnet.broadcast(); a++) {
            if (subnet.assignable(a) && !taken.contains(a)) {
                leases.put(name, a);
                save();
                return Subnet.text(a);
            }
        }
        throw new AgentException.Invalid("the managed bridge's subnet " + subnet + " is full (" + leases.size()
                + " containers); give the agent a larger subnet (network.ipv4 in its config)");
    }

    /** Gives back {@code name}'s address (the container is gone). */
    public synchronized void release(String name) {
        if (leases.remove(name) != null) {
            save();
        }
    }

    /** {@code name}'s address, or null. */
    public synchronized String addressOf(String name) {
        Integer a = leases.get(name);
        return a == null ? null : Subnet.text(a);
    }

    /** Every container's address, by name. */
    public synchronized Map<String, String> leases() {
        Map<String, String> all = new TreeMap<>();
        leases.forEach((n, a) -> all.put(n, Subnet.text(a)));
        return all;
    }

    /** Releases the addresses of containers that no longer exist (deleted while the agent was down). */
    public synchronized java.util.List<String> releaseAllBut(Set<String> existing) {
        java.util.List<String> released = leases.keySet().stream().filter(n -> !existing.contains(n)).toList();
        if (!released.isEmpty()) {
            released.forEach(leases::remove);
            save();
        }
        return released;
    }

    private void save() {
        try {
            Files.createDirectories(file.getParent());
            Map<String, String> out = new TreeMap<>();
            leases.forEach((n, a) -> out.put(n, Subnet.text(a)));
            AtomicFiles.write(file, dev.berth.agent.store.Json.PRETTY.writeValueAsBytes(new Saved(subnet.toString(), out)), true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the address book " + file, e);
        }
    }
}
