"""IAM is eventually consistent: for some seconds after a role is created, Lambda cannot assume it.

AWS documents this delay and gives no event for its end, so the only sound answer is to retry the call
that names the role (create or reconfigure the function, create the event source mapping) with backoff.
Deploy retries through this module, and so do the lessons' solutions: one rule for both.
"""

from __future__ import annotations

import time
from typing import Callable, TypeVar

import tenacity
from botocore.exceptions import ClientError

PATIENCE_S = 120.0  # AWS's own guidance: a new role is usually usable within a minute or two
PROMPT_S = 10.0  # most new roles are usable within seconds: retry promptly for this long
PROMPT_WAIT_S = (0.4, 0.6)  # the prompt retries' wait, jittered
_NOT_READY = ("cannot be assumed by lambda", "cannot access stream", "role defined for the function")

T = TypeVar("T")


def role_not_ready(error: BaseException) -> bool:
    """Whether ``error`` is Lambda saying it cannot use a role yet (the error a new role gives)."""
    if not isinstance(error, ClientError):
        return False
    answer = error.response.get("Error", {})
    message = answer.get("Message", "").lower()
    return answer.get("Code") == "InvalidParameterValueException" and any(text in message for text in _NOT_READY)


def until_role_ready(call: Callable[[], T], report: Callable[[str], None] = print,
                     sleep: Callable[[float], None] = time.sleep, patience_s: float = PATIENCE_S) -> T:
    """``call()``, retried while Lambda cannot use a new role, for up to ``patience_s``.

    For the first PROMPT_S of waiting, where most roles become usable, about twice a second (jittered),
    so a deploy goes on within half a second of its role's readiness; then with jittered exponential
    backoff up to 15 s, so a slow propagation does not keep asking Lambda. Any other error, and the
    same error once the patience is spent, is raised as it came.
    """
    def waiting(state: tenacity.RetryCallState) -> None:
        report(f"  the new role is not usable by Lambda yet (IAM is eventually consistent): "
               f"retrying in {state.next_action.sleep:.1f} s")

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(role_not_ready),
        wait=_prompt_then_backing_off,
        stop=lambda state: state.idle_for >= patience_s,  # the time spent waiting: testable with a fake sleep
        sleep=sleep,
        before_sleep=waiting,
        reraise=True,
    )
    return retrying(call)


_BACKING_OFF = tenacity.wait_random_exponential(multiplier=1, min=1, max=15)


def _prompt_then_backing_off(state: tenacity.RetryCallState) -> float:
    return (tenacity.wait_random(*PROMPT_WAIT_S) if state.idle_for < PROMPT_S else _BACKING_OFF)(state)
