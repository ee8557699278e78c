"""The executor: the only code that changes AWS while deploying. It runs a plan's calls in order."""

from __future__ import annotations

import time
from typing import Any, Callable

from botocore.exceptions import ClientError, WaiterError

from hello_winners.view import tables
from hello_winners.errors import DeployError
from hello_winners.deploy import propagation
from hello_winners.deploy.planner import Call, Ref


class KitSteps:
    """Plan steps that are not one boto3 call: the tables (hello_winners.view.tables.create) and waiters."""

    def __init__(self, clients: dict[str, Any]) -> None:
        self.clients = clients

    def create_tables(self, prefix: str, tags: dict) -> dict:
        return tables.create(self.clients["dynamodb"], prefix, tags)

    def wait(self, service: str, waiter: str, **params: Any) -> None:
        """Wait as boto3's waiter does; DeployError with the service's own words when it answers an error."""
        try:
            self.clients[service].get_waiter(waiter).wait(**params, WaiterConfig={"Delay": 2, "MaxAttempts": 90})
        except WaiterError as error:
            answer = (error.last_response or {}).get("Error") or {}
            why = answer.get("Message") or error.kwargs.get("reason") or str(error)
            raise DeployError(f"waiting for {service} ({waiter.replace('_', ' ')}) failed: {why}") from None


def execute(clients: dict[str, Any], calls: list[Call], sleep: Callable[[float], None] = time.sleep,
            report: Callable[[str], None] = print, meanwhile: Callable[[], None] | None = None) -> dict:
    """Run ``calls`` in order; returns the saved results by name. ``report`` hears each step.

    ``meanwhile()`` runs once: before the first call that names a role (what comes before it has been
    made, and a new role's propagation delay runs on while it works), else after the last call.
    """
    kit = KitSteps(clients)
    results = {}
    for call in calls:
        if meanwhile is not None and call.names_role:
            meanwhile()
            meanwhile = None
        report(f"  {call.reason}")
        target = kit if call.service == "kit" else clients[call.service]
        params = {k: _resolve(v, results) for k, v in call.params.items()}
        result = _applied(getattr(target, call.method), params, call, sleep, report)
        if call.save_as:
            results[call.save_as] = result
    if meanwhile is not None:
        meanwhile()
    return results


def describe(calls: list[Call]) -> str:
    """The plan as text: a dry run."""
    if not calls:
        return "nothing to change"
    return "\n".join(f"{n:2}. {call.reason}  [{call.service}.{call.method}]" for n, call in enumerate(calls, 1))


def _resolve(value, results):
    if isinstance(value, Ref):
        return value.template.format(**results)
    return value


def _applied(method, params, call, sleep, report):
    """One call; a call that names a new role is retried while the role propagates (see propagation)."""
    try:
        if call.names_role:
            return propagation.until_role_ready(lambda: method(**params), report=report, sleep=sleep)
        return method(**params)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        raise DeployError(f"could not {call.reason}: {code}: {error.response['Error'].get('Message', '')}") from None
