"""Deploying a stage: plan what differs from the desired state, then apply it; the same on both targets.

    >>> outputs = deploy()                  # doctest: +SKIP
    >>> print(outputs)                      # every name, ARN and URL

On the embedded target the local Lambda runtime then runs the functions; on real AWS, Lambda does.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable

from hello_winners import naming, targets
from hello_winners.view import tables
from hello_winners.errors import ConfigError
from hello_winners.deploy import bundle, models, planner, policies
from hello_winners.deploy.names import Names
from hello_winners.deploy.executor import describe, execute
from hello_winners.deploy.propagation import until_role_ready  # noqa: F401 - for the lessons: deploy.until_role_ready

SERVICES = ("kinesis", "dynamodb", "iam", "lambda", "apigatewayv2", "sts", "logs", "sqs")


def clients(target: str | None = None, stage: str | None = None) -> dict[str, Any]:
    """One client per service the deployment touches, on ``target``, for ``stage`` (None: the default stage).

    On the embedded AWS they sign as the room's participant whose stage it is, holding only the room policy.
    """
    return targets.get(target).clients(SERVICES, stage)


def stage_names(settings: targets.Settings, clients_: dict[str, Any]) -> Names:
    """The stage's names and ARNs: the account, region and partition come from the target itself."""
    region = clients_["kinesis"].meta.region_name
    if not region:
        raise ConfigError("no AWS region is set: set AWS_REGION or a region in your AWS profile")
    account = clients_["sts"].get_caller_identity()["Account"]
    return Names(settings.prefix, region, account, clients_["kinesis"].meta.partition)


def room_server_policy(stage: str, region: str = "*", account: str = "*", partition: str = "aws") -> dict:
    """The room server's IAM policy: put on (and read back from) the stream of the room's stage only."""
    return policies.room_server(Names(naming.prefix(naming.stage_name(stage)), region, account, partition))


@dataclasses.dataclass(frozen=True)
class Outputs:
    """Every name, ARN and URL of a deployed stage."""

    target: str
    stage: str
    stream: str
    stream_arn: str
    tables: dict
    functions: dict
    function_arns: dict
    roles: dict
    mapping_uuid: str
    api_id: str
    api_url: str
    changes: int = 0  # calls the deploy that returned these outputs applied (0 when only read back)

    def __str__(self):
        rows = [("target", self.target), ("stage", self.stage), ("stream", self.stream),
                ("stream ARN", _masked(self.stream_arn))]
        rows += [(f"table {variable}", name) for variable, name in self.tables.items()]
        rows += [(f"function {kind}", _masked(self.function_arns[kind])) for kind in self.functions]
        rows += [(f"role {kind}", _masked(arn)) for kind, arn in self.roles.items()]
        rows += [("event source mapping", self.mapping_uuid), ("HTTP API", self.api_id), ("API URL", self.api_url),
                 ("leaderboard", self.api_url.rstrip("/") + "/")]
        width = max(len(label) for label, _ in rows)
        return "\n".join(f"{label.ljust(width)}  {value}" for label, value in rows)


def deploy(target: str | None = None, stage: str | None = None, options: models.Options | None = None,
           dry_run: bool = False, report: Callable[[str], None] = print,
           sleep: Callable[[float], None] = time.sleep,
           meanwhile: Callable[[dict[str, Any], Names], None] | None = None) -> Outputs | None:
    """Bring the stage to its desired state; returns its Outputs (None on a dry run, which only prints the plan).

    ``meanwhile(clients, names)`` is work that needs the stage's stream and tables: it runs once they
    exist, before the first call that may wait for a new role to propagate (else at the end), so that
    the wait runs on while it works (see executor.execute). It is not run on a dry run.
    """
    settings = targets.settings(target, stage)
    clients_ = clients(settings.target, settings.stage)
    names = stage_names(settings, clients_)
    desired = models.desired(names, settings.tags, options or models.Options())
    if dry_run:
        report(describe(planner.plan(clients_, desired, bundle.build())))
        return None
    # The roles are applied before the zip is built or the rest even read, so IAM's propagation delay
    # also covers both; their lines are told after the plan's headline, in the plan's order.
    roles, told = planner.roles(clients_["iam"], desired), []
    try:
        execute(clients_, roles, sleep=sleep, report=told.append)
    except Exception:
        for line in told:
            report(line)
        raise
    calls = roles + (rest := planner.rest(clients_, desired, bundle.build()))
    report(f"deploying stage {settings.stage} on {settings.target}: "
           + (f"{len(calls)} changes" if calls else "nothing to change"))
    for line in told:
        report(line)
    execute(clients_, rest, sleep=sleep, report=report,
            meanwhile=meanwhile and (lambda: meanwhile(clients_, names)))
    return dataclasses.replace(outputs(settings, clients_, names), changes=len(calls))


def outputs(settings: targets.Settings, clients_: dict[str, Any], names: Names) -> Outputs:
    """Read the deployed stage back: what exists, not what was meant to."""
    mapping = planner.live_mappings(clients_["lambda"], names.function("consumer"), names.stream_arn)
    api = planner.stage_api(clients_["apigatewayv2"], names.api, settings.tags)
    api_id = api["ApiId"] if api else ""
    return Outputs(
        target=settings.target,
        stage=settings.stage,
        stream=names.stream,
        stream_arn=names.stream_arn,
        tables=tables.table_names(names.prefix),
        functions={kind: names.function(kind) for kind in naming.FUNCTION_KINDS},
        function_arns={kind: names.function_arn(kind) for kind in naming.FUNCTION_KINDS},
        roles={kind: names.role_arn(kind) for kind in naming.FUNCTION_KINDS},
        mapping_uuid=mapping[0]["UUID"] if mapping else "",
        api_id=api_id,
        api_url=targets.get(settings.target).api_url(api_id, names.region) if api_id else "",
    )


def _masked(arn):
    """An ARN with its account id hidden: printed outputs end up in notebooks and screenshots."""
    parts = arn.split(":")
    if len(parts) > 4 and parts[4].isdigit():
        parts[4] = "*" * len(parts[4])
    return ":".join(parts)
