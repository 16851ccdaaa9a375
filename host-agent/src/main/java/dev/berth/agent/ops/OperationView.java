package dev.berth.agent.ops;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** An operation as it is now: what the API shows (through {@code api.Views}), the events carry and the journal keeps. */
public record OperationView(String id, String description, String status, Instant created, Instant finished,
                            String error, Map<String, List<String>> resources, Map<String, Object> metadata,
                            boolean mayCancel) {
}
