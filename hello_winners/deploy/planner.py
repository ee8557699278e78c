"""The plan: what must change for a stage to match its desired state, as a list of calls.

Planning only describes and lists; it never changes AWS (the executor does). Each resource is asked
"does it exist, does it still match?" and gets create, update or nothing, so a redeploy of an unchanged
stage plans nothing. Resources are tagged at creation wherever the API allows, and a resource found
without the kit's tags (an interrupted deploy) is tagged again, so teardown can always find it. Calls that need a value only known once an earlier call ran (the id of a new HTTP
API) carry a Ref that the executor fills in.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TYPE_CHECKING

from botocore.exceptions import ClientError

from hello_winners.targets import pages
from hello_winners.deploy import policies, tagging
from hello_winners.deploy.bundle import code_sha256
from hello_winners.deploy.names import BOUNDARY_POLICY, Names

if TYPE_CHECKING:
    from hello_winners.deploy import models

STATEMENT_ID = "hello-winners-http-api"


@dataclasses.dataclass(frozen=True)
class Ref:
    """A value taken from earlier calls' results: ``template.format(**results)``."""

    template: str


@dataclasses.dataclass(frozen=True)
class Call:
    """One API call of the plan. ``service`` "kit" names the kit's own steps (see executor.KitSteps).

    ``names_role``: the call hands Lambda a role, which may be too new to assume (IAM is eventually
    consistent), so the executor retries it while Lambda says so (deploy.propagation).
    """

    service: str
    method: str
    params: dict
    reason: str
    save_as: str = None
    names_role: bool = False


def plan(clients: dict[str, Any], stage: models.Stage, code: bytes) -> list[Call]:
    """Every call needed to bring ``stage`` (a models.Stage) to its desired state with this ``code`` (zip bytes).

    Roles come first: IAM takes seconds before Lambda may use a new role, time the stream and tables fill.
    """
    return roles(clients["iam"], stage) + rest(clients, stage, code)


def roles(iam: Any, stage: models.Stage) -> list[Call]:
    """The calls that bring the stage's roles to their desired state: the first part of the plan.

    Each role carries the account's permissions boundary (a room's instructor makes it; on an account of
    one's own, the first deploy does, see :func:`boundary`).
    """
    return boundary(iam, stage.names) + [step for role in stage.roles for step in _role(iam, role)]


def boundary(iam: Any, names: Names) -> list[Call]:
    """The call that creates the account's permissions boundary when it does not exist yet (a room has it)."""
    if _exists(lambda: iam.get_policy(PolicyArn=names.boundary_arn), "NoSuchEntity"):
        return []
    document = policies.boundary(account=names.account, partition=names.partition)
    return [Call("iam", "create_policy", {"PolicyName": BOUNDARY_POLICY, "PolicyDocument": json.dumps(document),
                                          "Description": "hello-winners: the most any role of a stage may do"},
                 f"create the permissions boundary {BOUNDARY_POLICY} of the account's stages")]


def rest(clients: dict[str, Any], stage: models.Stage, code: bytes) -> list[Call]:
    """The plan after the roles: what a deploy may read once new roles are on their way."""
    return [
        *stream(clients["kinesis"], stage),
        *_tables(clients["dynamodb"], stage),
        *queue(clients["sqs"], stage),
        *(step for function in stage.functions for step in _function(clients["lambda"], function, code)),
        *_mapping(clients["lambda"], stage.mapping),
        *_http_api(clients["apigatewayv2"], clients["lambda"], stage),
    ]


def stream(kinesis: Any, stage: models.Stage) -> list[Call]:
    """The calls that create the stage's stream, tagged, when it does not exist yet (or tag it when it lost its tags)."""
    name = stage.names.stream
    tag = Call("kinesis", "add_tags_to_stream", {"StreamName": name, "Tags": stage.tags}, f"tag {name}")
    if _exists(lambda: kinesis.describe_stream_summary(StreamName=name), "ResourceNotFoundException"):
        return [] if tagging.carries(tagging.stream_tags(kinesis, name), stage.tags) else [_again(tag)]
    return [
        Call("kinesis", "create_stream", {"StreamName": name, "ShardCount": stage.options.shards, "Tags": stage.tags},
             f"create the stream {name} with {stage.options.shards} shards"),
        Call("kit", "wait", {"service": "kinesis", "waiter": "stream_exists", "StreamName": name},
             f"wait until {name} is active"),
        tag,  # moto drops CreateStream's Tags; on AWS this only confirms them
    ]


def queue(sqs: Any, stage: models.Stage) -> list[Call]:
    """The call that creates the stage's failed-batches queue, tagged, when it does not exist yet (or tags it)."""
    wanted = stage.queue
    url = _found(lambda: sqs.get_queue_url(QueueName=wanted.name), "AWS.SimpleQueueService.NonExistentQueue",
                 "QueueDoesNotExist")
    if url is None:
        return [Call("sqs", "create_queue", {"QueueName": wanted.name, "tags": wanted.tags},
                     f"create the queue {wanted.name}, where Lambda records a batch it gives up on")]
    if tagging.carries(sqs.list_queue_tags(QueueUrl=url["QueueUrl"]).get("Tags", {}), wanted.tags):
        return []
    return [_again(Call("sqs", "tag_queue", {"QueueUrl": url["QueueUrl"], "Tags": wanted.tags}, f"tag {wanted.name}"))]


def _again(call):
    """A tagging call for a resource found without the kit's tags, saying why."""
    return dataclasses.replace(call, reason=f"{call.reason} again: it lacks the kit's tags (an interrupted deploy?)")


def _tables(dynamodb, stage):
    missing, untagged = [], []
    for name in stage.names.tables.values():
        arn = _table_arn(dynamodb, name)
        if arn is None:
            missing.append(name)
        elif not tagging.carries(tagging.table_tags(dynamodb, arn), stage.tags):
            untagged.append(_again(Call("dynamodb", "tag_resource",
                                        {"ResourceArn": arn, "Tags": tagging.as_pairs(stage.tags)}, f"tag {name}")))
    if not missing:
        return untagged
    return [Call("kit", "create_tables", {"prefix": stage.names.prefix, "tags": stage.tags},
                 f"create the tables {', '.join(missing)}"), *untagged]


def _table_arn(dynamodb, name):
    table = _found(lambda: dynamodb.describe_table(TableName=name), "ResourceNotFoundException")
    return table and table["Table"]["TableArn"]


def _role(iam, role):
    calls = []
    found = _found(lambda: iam.get_role(RoleName=role.name), "NoSuchEntity")
    if found is None:
        calls.append(Call("iam", "create_role", {
            "RoleName": role.name,
            "AssumeRolePolicyDocument": json.dumps(role.trust),
            "PermissionsBoundary": role.boundary,
            "Tags": tagging.as_pairs(role.tags),
        }, f"create the role {role.name}, bounded by the account's boundary"))
        current = None
    else:
        if not tagging.carries(tagging.role_tags(iam, role.name), role.tags):
            calls.append(_again(Call("iam", "tag_role", {"RoleName": role.name, "Tags": tagging.as_pairs(role.tags)},
                                     f"tag the role {role.name}")))
        if found["Role"].get("PermissionsBoundary", {}).get("PermissionsBoundaryArn") != role.boundary:
            calls.append(Call("iam", "put_role_permissions_boundary",
                              {"RoleName": role.name, "PermissionsBoundary": role.boundary},
                              f"bound the role {role.name} by the account's boundary (it was made without)"))
        current = _current_policy(iam, role)
    if current != role.policy:
        calls.append(Call("iam", "put_role_policy", {
            "RoleName": role.name, "PolicyName": role.policy_name, "PolicyDocument": json.dumps(role.policy),
        }, f"{'set' if current is None else 'update'} the policy {role.policy_name} of {role.name}"))
    return calls


def _current_policy(iam, role):
    """The role's inline policy as a dict (botocore decodes IAM's URL-encoded JSON), or None when it has none."""
    found = _found(lambda: iam.get_role_policy(RoleName=role.name, PolicyName=role.policy_name), "NoSuchEntity")
    return found and found["PolicyDocument"]


def _function(lam, function, code):
    config = {
        "Runtime": function.runtime,
        "Handler": function.handler,
        "Role": function.role_arn,
        "MemorySize": function.memory_mb,
        "Timeout": function.timeout_s,
        "Environment": {"Variables": function.environment},
    }
    current = _found(lambda: lam.get_function_configuration(FunctionName=function.name), "ResourceNotFoundException")
    if current is None:
        return [
            Call("lambda", "create_function", {
                "FunctionName": function.name, **config, "Code": {"ZipFile": code}, "Tags": function.tags,
            }, f"create the function {function.name}", names_role=True),
            Call("kit", "wait", {"service": "lambda", "waiter": "function_active_v2", "FunctionName": function.name},
                 f"wait until {function.name} is active"),
        ]
    calls = []
    if not tagging.carries(tagging.function_tags(lam, current["FunctionArn"]), function.tags):
        calls.append(_again(Call("lambda", "tag_resource", {"Resource": current["FunctionArn"], "Tags": function.tags},
                                 f"tag the function {function.name}")))
    if current.get("CodeSha256") != code_sha256(code):
        calls += [
            Call("lambda", "update_function_code", {"FunctionName": function.name, "ZipFile": code},
                 f"update the code of {function.name}"),
            Call("kit", "wait", {"service": "lambda", "waiter": "function_updated_v2", "FunctionName": function.name},
                 f"wait until {function.name} is updated"),
        ]
    changed = sorted(k for k, v in config.items() if _current_value(current, k) != v)
    if changed:
        calls += [
            Call("lambda", "update_function_configuration", {"FunctionName": function.name, **config},
                 f"update {', '.join(changed)} of {function.name}", names_role=True),
            Call("kit", "wait", {"service": "lambda", "waiter": "function_updated_v2", "FunctionName": function.name},
                 f"wait until {function.name} is updated"),
        ]
    return calls


def _current_value(configuration, key):
    if key == "Environment":
        return {"Variables": configuration.get("Environment", {}).get("Variables", {})}
    return configuration.get(key)


def mapping_settings(mapping: models.Mapping) -> dict:
    """The event source mapping's settings, as CreateEventSourceMapping takes them.

    A batch that still fails after its retries is not dropped without a trace: Lambda records it (its shard
    and sequence numbers) in the stage's queue, the on-failure destination.
    """
    return {
        "BatchSize": mapping.batch_size,
        "MaximumBatchingWindowInSeconds": mapping.batching_window_s,
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": mapping.max_retry_attempts,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "DestinationConfig": {"OnFailure": {"Destination": mapping.on_failure}},
    }


def _mapping_value(mapping: dict, key: str) -> Any:
    """A setting of a mapping as Lambda lists it, in the shape mapping_settings gives it (only the on-failure
    destination counts of its DestinationConfig)."""
    if key == "DestinationConfig":
        return {"OnFailure": {"Destination": (mapping.get(key) or {}).get("OnFailure", {}).get("Destination")}}
    return mapping.get(key)


def live_mappings(lam: Any, function_name: str, stream_arn: str | None = None) -> list[dict]:
    """The event source mappings of the function (from the stream, when given), but those Lambda is deleting.

    A mapping in state ``Deleting`` stays listed for a while after teardown; it will never run
    again, so it counts as gone: a deploy creates a new one, and teardown does not wait for it.
    """
    source = {"EventSourceArn": stream_arn} if stream_arn else {}
    found = pages.items(lam, "list_event_source_mappings", "EventSourceMappings", FunctionName=function_name, **source)
    return [mapping for mapping in found if mapping.get("State") != "Deleting"]


def _mapping(lam, mapping):
    settings = mapping_settings(mapping)
    existing = live_mappings(lam, mapping.function_name, mapping.stream_arn)
    if not existing:
        return [Call("lambda", "create_event_source_mapping", {
            "FunctionName": mapping.function_name, "EventSourceArn": mapping.stream_arn,
            "StartingPosition": "TRIM_HORIZON", "Enabled": True, **settings,
        }, f"connect the stream to {mapping.function_name} from TRIM_HORIZON", names_role=True)]
    current = existing[0]
    changed = sorted(k for k, v in settings.items() if _mapping_value(current, k) != v)
    if not changed:
        return []
    return [Call("lambda", "update_event_source_mapping", {"UUID": current["UUID"], **settings},
                 f"update {', '.join(changed)} of the stream's mapping to {mapping.function_name}")]


def _http_api(apis, lam, stage):
    """The winner API by API Gateway's quick create: one CreateApi with ``Target`` makes the API, its
    integration, its catch-all route and its auto-deployed stage, so every change is a call on the API
    itself, which IAM scopes by the API's tags. The stage's API is the one of its name that carries its tags
    (API Gateway lets anyone pick any name: a look-alike is somebody else's). One that no longer sends every
    request to the function is replaced (deleted, then created again), never patched piece by piece."""
    api = stage.api
    found = stage_api(apis, api.name, api.tags)
    calls = []
    if found and not _sends_everything_to(apis, found["ApiId"], api.function_arn):
        calls.append(Call("apigatewayv2", "delete_api", {"ApiId": found["ApiId"]},
                          f"replace the HTTP API {api.name}: it no longer sends every request to the function"))
        found = None
    if not found:
        calls.append(Call("apigatewayv2", "create_api", {"Name": api.name, "ProtocolType": "HTTP",
                                                         "Target": api.function_arn, "Tags": api.tags},
                          f"create the HTTP API {api.name}, sending every request to "
                          f"{api.function_arn.rpartition(':')[2]}", save_as="api"))
    function_name = stage.names.function("api")
    source = stage.names.api_source_arn(found["ApiId"]) if found else Ref(stage.names.api_source_arn("{api[ApiId]}"))
    statement = _kit_statement(lam, function_name)
    granted = statement and statement.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn")
    if statement is not None and granted != source:
        calls.append(Call("lambda", "remove_permission", {"FunctionName": function_name, "StatementId": STATEMENT_ID},
                          f"withdraw {function_name}'s permission " + (
                              "for an API that is gone" if granted else "that lets any API invoke it")))
    if granted != source:
        calls.append(Call("lambda", "add_permission", {
            "FunctionName": function_name, "StatementId": STATEMENT_ID,
            "Action": "lambda:InvokeFunction", "Principal": "apigateway.amazonaws.com", "SourceArn": source,
        }, f"let {api.name} invoke {function_name}"))
    return calls


def stage_api(apis: Any, name: str, tags: dict) -> dict | None:
    """The stage's HTTP API: the one named ``name`` that carries the stage's ``tags``, or None."""
    return next((a for a in pages.items(apis, "get_apis", "Items")
                 if a["Name"] == name and tagging.carries(a.get("Tags", {}), tags)), None)


def _sends_everything_to(apis, api_id, function_arn):
    """Whether the API is as quick create made it: a $default route to an AWS_PROXY integration of the
    function (payload 2.0), published at an auto-deployed $default stage."""
    integrations = {i["IntegrationId"]: i for i in pages.items(apis, "get_integrations", "Items", ApiId=api_id)}
    route = next((r for r in pages.items(apis, "get_routes", "Items", ApiId=api_id) if r["RouteKey"] == "$default"), None)
    integration = integrations.get((route or {}).get("Target", "").removeprefix("integrations/"))
    stages = pages.items(apis, "get_stages", "Items", ApiId=api_id)
    return (integration is not None and integration.get("IntegrationUri") == function_arn
            and integration.get("IntegrationType") == "AWS_PROXY" and integration.get("PayloadFormatVersion") == "2.0"
            and any(s["StageName"] == "$default" and s.get("AutoDeploy") for s in stages))


def _kit_statement(lam, function_name):
    """The kit's permission statement on the API function, or None."""
    found = _found(lambda: lam.get_policy(FunctionName=function_name), "ResourceNotFoundException")
    statements = json.loads(found["Policy"])["Statement"] if found else []  # Lambda drops an empty policy
    return next((statement for statement in statements if statement.get("Sid") == STATEMENT_ID), None)


def _exists(describe, missing_code):
    return _found(describe, missing_code) is not None


def _found(read, *missing_codes):
    """``read()``, or None when AWS answers one of ``missing_codes``: what it reads does not exist."""
    try:
        return read()
    except ClientError as error:
        if error.response["Error"]["Code"] in missing_codes:
            return None
        raise
