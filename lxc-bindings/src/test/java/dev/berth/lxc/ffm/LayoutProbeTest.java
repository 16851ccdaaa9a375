package dev.berth.lxc.ffm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compiles an {@code offsetof}/{@code sizeof} probe with gcc against the installed liblxc (and libc
 * socket) headers and checks every member of every Java layout against it. A liblxc whose ABI differs fails here, loudly,
 * before any binding reads a wrong offset.
 */
class LayoutProbeTest {

    private record Struct(String cType, StructLayout layout) {
    }

    private static final List<Struct> STRUCTS = List.of(
            new Struct("struct lxc_container", Layouts.LXC_CONTAINER),
            new Struct("lxc_attach_options_t", Layouts.LXC_ATTACH_OPTIONS),
            new Struct("struct lxc_snapshot", Layouts.LXC_SNAPSHOT),
            new Struct("struct iovec", Layouts.IOVEC),
            new Struct("struct msghdr", Layouts.MSGHDR),
            new Struct("struct cmsghdr", Layouts.CMSGHDR),
            new Struct("struct sockaddr_un", Layouts.SOCKADDR_UN));

    @Test
    void everyJavaOffsetAndSizeMatchesTheInstalledHeaders(@TempDir Path dir) throws Exception {
        Map<String, Long> expected = new LinkedHashMap<>();
        StringBuilder c = new StringBuilder("""
                #include <stddef.h>
                #include <stdio.h>
                #include <sys/socket.h>
                #include <sys/uio.h>
                #include <sys/un.h>
                #include <lxc/lxccontainer.h>
                #include <lxc/attach_options.h>
                int main(void) {
                """);
        for (Struct struct : STRUCTS) {
            c.append("  printf(\"%s sizeof %zu\\n\", \"").append(struct.cType()).append("\", sizeof(")
                    .append(struct.cType()).append("));\n");
            expected.put(struct.cType() + " sizeof", struct.layout().byteSize());
            for (Map.Entry<String, Long> member : members(struct.layout(), "", 0).entrySet()) {
                c.append("  printf(\"%s %s %zu\\n\", \"").append(struct.cType()).append("\", \"")
                        .append(member.getKey()).append("\", offsetof(").append(struct.cType()).append(", ")
                        .append(member.getKey()).append("));\n");
                expected.put(struct.cType() + " " + member.getKey(), member.getValue());
            }
        }
        c.append("  return 0;\n}\n");
        Path source = dir.resolve("probe.c");
        Files.writeString(source, c);
        Path binary = dir.resolve("probe");
        run(List.of("gcc", "-Wall", "-Werror", "-o", binary.toString(), source.toString()));
        Map<String, Long> actual = new LinkedHashMap<>();
        for (String line : run(List.of(binary.toString())).split("\n")) {
            int space = line.lastIndexOf(' ');
            actual.put(line.substring(0, space), Long.parseLong(line.substring(space + 1)));
        }

        assertThat(actual).as("offsets and sizes from gcc vs Layouts").containsExactlyEntriesOf(expected);
        // 61 function pointers in liblxc 5.0; a newer liblxc that appends members still matches the prefix.
        assertThat(Layouts.CONTAINER_FUNCTIONS).hasSize(61);
    }

    /** Every named member, nested groups as {@code outer.inner}, with its byte offset. */
    private static Map<String, Long> members(GroupLayout group, String prefix, long base) {
        Map<String, Long> members = new LinkedHashMap<>();
        long offset = base;
        for (MemoryLayout member : group.memberLayouts()) {
            if (!(member instanceof PaddingLayout)) {
                String name = prefix + member.name().orElseThrow();
                members.put(name, offset);
                if (member instanceof GroupLayout nested) {
                    members.putAll(members(nested, name + ".", offset));
                }
            }
            offset += member.byteSize();
        }
        return members;
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("%s failed:%n%s", command, output).isZero();
        return output;
    }
}
