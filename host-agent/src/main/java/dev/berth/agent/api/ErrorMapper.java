package dev.berth.agent.api;

import dev.berth.agent.error.AgentException;
import dev.berth.lxc.LxcException;
import dev.berth.profile.ProfileException;

/**
 * The one place a failure becomes an HTTP status: the agent's own refusals say theirs; liblxc's and
 * the profile loader's are mapped here, once; anything else is the agent's fault (500).
 */
final class ErrorMapper {

    private ErrorMapper() {
    }

    static int status(Throwable failure) {
        return switch (failure) {
            case AgentException e -> e.status();
            case LxcException.InvalidName _, ProfileException _ -> 400;
            case LxcException.NotDefined _ -> 404;
            case LxcException.AlreadyDefined _, LxcException.AlreadyRunning _, LxcException.NotRunning _ -> 409;
            default -> 500;
        };
    }

    /** The request field at fault, or null. */
    static String field(Throwable failure) {
        return switch (failure) {
            case AgentException e -> e.field();
            case LxcException.InvalidName _ -> "name";
            case ProfileException e -> e.problems().isEmpty() ? null : e.problems().getFirst().path();
            default -> null;
        };
    }
}
