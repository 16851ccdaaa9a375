package dev.berth.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Memory as the host's /proc counts it: a process's RSS and PSS, and the mean PSS of a lxcpath's LXC monitors. */
final class HostMemory {

    private HostMemory() {
    }

    static long rssKib(long pid) throws IOException {
        return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream().filter(l -> l.startsWith("VmRSS:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D+", ""))).findFirst().orElse(0);
    }

    static double pssKib(long pid) {
        try {
            return Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup")).stream().filter(l -> l.startsWith("Pss:"))
                    .mapToLong(l -> Long.parseLong(l.replaceAll("\\D+", ""))).findFirst().orElse(0);
        } catch (IOException e) {
            return 0;
        }
    }

    /** The mean PSS of the LXC monitor processes of the containers in {@code lxcpath}. */
    static double averagePssKib(Path lxcpath) throws IOException {
        List<Long> pids = new ArrayList<>();
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cmdline = new String(Files.readAllBytes(p.resolve("cmdline"))).replace('\0', ' ');
                    if (cmdline.startsWith("[lxc monitor] " + lxcpath + " ")) {
                        pids.add(Long.parseLong(p.getFileName().toString()));
                    }
                } catch (IOException e) {
                    // gone meanwhile
                }
            }
        }
        return pids.stream().mapToDouble(HostMemory::pssKib).average().orElse(0);
    }
}
