package dev.berth.agent.api;

import dev.berth.agent.api.model.Models;
import dev.berth.agent.app.AppService;
import dev.berth.agent.ops.OperationView;

/** Domain records as the API's records ({@code api.model}, which knows nothing else of the agent). */
final class Views {

    private Views() {
    }

    static Models.Operation operation(OperationView v) {
        return new Models.Operation(v.id(), v.description(), v.status(), v.created(), v.finished(), v.error(), v.resources(),
                v.metadata(), v.mayCancel());
    }

    /** Null without an app. */
    static Models.AppState appState(AppService.View v) {
        return v == null ? null : new Models.AppState(v.image(), v.digest(), v.revision(), v.state().word(), v.health().word(), v.restarts(),
                v.exitCode(), v.since(), v.healthOutput(), v.summary());
    }

    static Models.Reapplied reapplied(dev.berth.agent.container.Reconfigure.Reapplied r) {
        return new Models.Reapplied(r.appliedLive(), r.pending());
    }
}
