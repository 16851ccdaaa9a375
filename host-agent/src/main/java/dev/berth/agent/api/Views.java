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
    static Models.AppState appState(dev.berth.agent.app.AppMonitor.View v) {
        return v == null ? null : new Models.AppState(v.image(), v.digest(), v.revision(), v.state().word(), v.health().word(), v.restarts(),
                v.exitCode(), v.since(), v.healthOutput(), v.summary());
    }

    static Models.Reapplied reapplied(dev.berth.agent.container.Reconfigure.Reapplied r) {
        return new Models.Reapplied(r.appliedLive(), r.pending());
    }

    /** An app's state with its runtime's detail (null while the container does not run). */
    static Models.AppDetail appDetail(dev.berth.agent.app.AppMonitor.View view, dev.berth.agent.app.AppService.Detail detail) {
        Models.AppState a = appState(view);
        return new Models.AppDetail(a.image(), a.digest(), a.revision(), a.status(), a.health(), a.restarts(), a.exitCode(), a.since(),
                a.healthOutput(), a.summary(), detail == null ? null : detail.pid(), detail == null ? null
                : detail.revisions().stream().map(r -> new Models.AppRevision(r.number(), r.image(), r.digest(), r.installed(),
                        r.number() == detail.current())).toList());
    }
}
