package dev.berth.agent.net;

/**
 * An IPv4 subnet with the host's address on it, as written in the agent's config:
 * {@code 10.87.0.1/24} (the bridge's address and the prefix length).
 */
public record Subnet(int gateway, int prefix) {

    public Subnet {
        if (prefix < 8 || prefix > 30) {
            throw new IllegalArgumentException("a container subnet needs a prefix between /8 and /30, not /" + prefix);
        }
        if (gateway == network(gateway, prefix) || gateway == broadcast(gateway, prefix)) {
            throw new IllegalArgumentException("the bridge's address " + text(gateway) + " is the subnet's network or broadcast"
                    + " address; use the first host address, for example " + text(network(gateway, prefix) + 1) + "/" + prefix);
        }
    }

    /** Parses {@code a.b.c.d/n}. */
    public static Subnet parse(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("'" + cidr + "' is not a subnet: write the bridge's address and prefix, as 10.87.0.1/24");
        }
        try {
            return new Subnet(address(cidr.substring(0, slash)), Integer.parseInt(cidr.substring(slash + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + cidr + "' is not a subnet: write the bridge's address and prefix, as 10.87.0.1/24");
        }
    }

    /** Parses a dotted IPv4 address to its 32 bits. */
    public static int address(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv4 address");
        }
        int value = 0;
        for (String part : parts) {
            int octet;
            try {
                octet = Integer.parseInt(part);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "' is not an IPv4 address");
            }
            if (octet < 0 || octet > 255 || part.length() > 3 || part.isEmpty()) {
                throw new IllegalArgumentException("'" + text + "' is not an IPv4 address");
            }
            value = value << 8 | octet;
        }
        return value;
    }

    public static String text(int address) {
        return (address >>> 24) + "." + (address >>> 16 & 0xff) + "." + (address >>> 8 & 0xff) + "." + (address & 0xff);
    }

    private static int mask(int prefix) {
        return prefix == 0 ? 0 : -1 << (32 - prefix);
    }

    private static int network(int address, int prefix) {
        return address & mask(prefix);
    }

    private static int broadcast(int address, int prefix) {
        return network(address, prefix) | ~mask(prefix);
    }

    public int network() {
        return network(gateway, prefix);
    }

    public int broadcast() {
        return broadcast(gateway, prefix);
    }

    public boolean contains(int address) {
        return network(address, prefix) == network();
    }

    /** Whether {@code address} may be given to a container: inside, and not the network, broadcast or bridge address. */
    public boolean assignable(int address) {
        return contains(address) && address != network() && address != broadcast() && address != gateway;
    }

    @Override
    public String toString() {
        return text(gateway) + "/" + prefix;
    }
}
