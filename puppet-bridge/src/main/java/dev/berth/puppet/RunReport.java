package dev.berth.puppet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Puppet run report ({@code --lastrunreport}, YAML) read for what the bridge needs: the run's
 * status, the resources out of sync with each changed property's values, the resources that failed,
 * and the error-level log lines. The report's Ruby object tags ({@code !ruby/object:...}) are read
 * past; the exit code of a noop run says nothing about drift, so the report is the only source.
 */
public record RunReport(String status, boolean noop, String puppetVersion, List<DriftReport.Drift> outOfSync,
                        List<String> failedResources, List<String> errors) {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    /** Puppet's event message: "current_value 'X', should be 'Y' (noop)". */
    private static final Pattern MESSAGE = Pattern.compile("current_value '(.*)', should be '(.*)'(?: \\(noop\\))?", Pattern.DOTALL);

    /** Reads a report; a report that is no YAML at all is an {@link IOException}. */
    public static RunReport parse(byte[] yaml) throws IOException {
        JsonNode report = YAML.readTree(yaml);
        if (report == null || !report.isObject()) {
            throw new IOException("not a Puppet run report");
        }
        List<DriftReport.Drift> drift = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = report.path("resource_statuses").fields(); it.hasNext(); ) {
            JsonNode status = it.next().getValue();
            String resource = status.path("resource").asText();
            if (status.path("failed").asBoolean()) {
                failed.add(resource);
            }
            if (!status.path("out_of_sync").asBoolean() && !status.path("changed").asBoolean()) {
                continue;
            }
            for (JsonNode event : status.path("events")) {
                String eventStatus = event.path("status").asText();
                if (!eventStatus.equals("noop") && !eventStatus.equals("success") && !eventStatus.equals("failure")) {
                    continue; // audit events: not a change
                }
                String[] values = values(event);
                drift.add(new DriftReport.Drift("puppet", resource, event.path("property").asText(null), values[0], values[1],
                        eventStatus.equals("success"), status.path("file").asText(null),
                        status.path("line").isNumber() ? status.path("line").asInt() : null));
            }
        }
        List<String> errors = new ArrayList<>();
        for (JsonNode log : report.path("logs")) {
            String level = log.path("level").asText();
            if (level.equals("err") || level.equals("crit") || level.equals("alert") || level.equals("emerg")) {
                String source = log.path("source").asText("");
                String where = log.path("file").isTextual() ? " (" + log.path("file").asText()
                        + (log.path("line").isNumber() ? ":" + log.path("line").asInt() : "") + ")" : "";
                errors.add((source.isEmpty() || source.equals("Puppet") ? "" : source + ": ") + log.path("message").asText() + where);
            }
        }
        return new RunReport(report.path("status").asText("unknown"), report.path("noop").asBoolean(),
                report.path("puppet_version").asText(null), drift, failed, errors);
    }

    /**
     * The is and should values of an event: {@code previous_value} and {@code desired_value} as
     * strings; Ruby writes a binary string's value in base64, so where the message names the values
     * (as it does for every property change) they are taken from it.
     */
    private static String[] values(JsonNode event) {
        String is = text(event.path("previous_value"));
        String should = text(event.path("desired_value"));
        Matcher m = MESSAGE.matcher(event.path("message").asText(""));
        if (m.matches()) {
            if (is == null || !is.equals(m.group(1))) {
                is = decoded(is, m.group(1));
            }
            if (should == null || !should.equals(m.group(2))) {
                should = decoded(should, m.group(2));
            }
        }
        return new String[] {is, should};
    }

    /** {@code value}, or the message's words for it when {@code value} is those words in base64 (or missing). */
    private static String decoded(String value, String fromMessage) {
        if (value == null) {
            return fromMessage;
        }
        try {
            String plain = new String(Base64.getDecoder().decode(value), StandardCharsets.UTF_8);
            return plain.equals(fromMessage) ? plain : value;
        } catch (IllegalArgumentException e) {
            return value;
        }
    }

    private static String text(JsonNode value) {
        if (value == null || value.isMissingNode() || value.isNull()) {
            return null;
        }
        return value.isValueNode() ? value.asText() : value.toString();
    }
}
