"""What a verb raises to steer the loop rather than to stop the run: each names what the
runner does next (submit again, start over after a login, redo the step, one key per
submission). `NoSuchOption` is a stop, kept apart so that it is never handed to the human."""

from __future__ import annotations

from agent.exitcodes import AgentError


class Resubmit(Exception):
    """The verification dialog closed before it finished: submit again."""


class AccountFixed(AgentError):
    """A later key's account cannot be chosen on the create form: submit each key on its own."""


class NoSuchOption(AgentError):
    """A select's list opened without the value asked for (an unknown sub-account, say):
    not a page the flow misreads, so it is not handed to the human."""


class SessionLost(Exception):
    """The site logged the client out mid-flow: log in again, then start over."""


class Interrupted(Exception):
    """A step went wrong while something of the page's own showed (an announcement that came
    up mid-step closes an open list, takes a click): once it is passed, the step again."""
