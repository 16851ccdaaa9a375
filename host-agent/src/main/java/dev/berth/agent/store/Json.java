package dev.berth.agent.store;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * The agent's one JSON configuration, for the API, the events, the journal and every file it keeps:
 * java.time values as ISO-8601 text, at most 64 levels of nesting (a bound for a hostile body), and
 * an unknown property an error unless read through {@link #LENIENT}. Configured once here; shared
 * (a configured mapper is thread-safe).
 */
public final class Json {

    private Json() {
    }

    public static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build()).build())
            .findAndRegisterModules()
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    /** For the files the agent writes for people to read too (records, indexes, reports): indented. */
    public static final ObjectWriter PRETTY = MAPPER.writerWithDefaultPrettyPrinter();

    /** For documents written by others or by another version (OCI manifests, stores): unknown properties are skipped. */
    public static final ObjectReader LENIENT = MAPPER.reader().without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
}
