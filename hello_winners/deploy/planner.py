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
from hello_winners.deploy import tagging
from hello_winners.deploy.bundle import code_sha256

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
    """The calls that bring the stage's roles to their desired state: the first part of the plan."""
    return [step for role in stage.roles for step in _role(iam, role)]


def rest(clients: dict[str, Any], stage: models.Stage, code: bytes) -> list[Call]:
    """The plan after the roles: what a deploy may read once new roles are on their way."""
    return [
        *stream(clients["kinesis"], stage),
        *_tables(clients["dynamodb"], stage),
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
    if not _exists(lambda: iam.get_role(RoleName=role.name), "NoSuchEntity"):
        calls.append(Call("iam", "create_role", {
            "RoleName": role.name,
            "AssumeRolePolicyDocument": json.dumps(role.trust),
            "Tags": tagging.as_pairs(role.tags),
        }, f"create the role {role.name}"))
        current = None
    else:
        current = _current_policy(iam, role)
        if not tagging.carries(tagging.role_tags(iam, role.name), role.tags):
            calls.append(_again(Call("iam", "tag_role", {"RoleName": role.name, "Tags": tagging.as_pairs(role.tags)},
                                     f"tag the role {role.name}")))
    if current != role.policy:
        calls.append(Call("iam", "put_role_policy", {
            "RoleName": role.name, "PolicyName": role.policy_name, "PolicyDocument": json.dumps(role.policy),
        }, f"{'set' if current is None else 'update'} the policy {role.policy_name} of {role.name}"))
    return calls


def _current_policy(iam, role):
    try:
        document = iam.get_role_policy(RoleName=role.name, PolicyName=role.policy_name)["PolicyDocument"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchEntity":
            return None
        raise
    return json.loads(document) if isinstance(document, str) else document


def _function(lam, function, code):
    config = {
        "Runtime": function.runtime,
        "Handler": function.handler,
        "Role": function.role_arn,
        "MemorySize": function.memory_mb,
        "Timeout": function.timeout_s,
        "Environment": {"Variables": function.environment},
    }
    try:
        current = lam.get_function_configuration(FunctionName=function.name)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
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
    """The event source mapping's settings, as CreateEventSourceMapping takes them."""
    return {
        "BatchSize": mapping.batch_size,
        "MaximumBatchingWindowInSeconds": mapping.batching_window_s,
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": mapping.max_retry_attempts,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }


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
    changed = sorted(k for k, v in settings.items() if current.get(k) != v)
    if not changed:
        return []
    return [Call("lambda", "update_event_source_mapping", {"UUID": current["UUID"], **settings},
                 f"update {', '.join(changed)} of the stream's mapping to {mapping.function_name}")]


def _http_api(apis, lam, stage):
    api = stage.api
    found = next((a for a in pages.items(apis, "get_apis", "Items") if a["Name"] == api.name), None)
    api_id = found["ApiId"] if found else None
    api_ref = api_id or Ref("{api[ApiId]}")
    calls = []
    if not found:
        calls.append(Call("apigatewayv2", "create_api", {"Name": api.name, "ProtocolType": "HTTP", "Tags": api.tags},
                          f"create the HTTP API {api.name}", save_as="api"))
    elif not tagging.carries(found.get("Tags", {}), api.tags):
        calls.append(_again(Call("apigatewayv2", "tag_resource",
                                 {"ResourceArn": stage.names.api_arn(api_id), "Tags": api.tags}, f"tag {api.name}")))
    integrations = pages.items(apis, "get_integrations", "Items", ApiId=api_id) if found else []
    integration = next((i for i in integrations if i.get("IntegrationUri") == api.function_arn), None)
    if integration is None:
        calls.append(Call("apigatewayv2", "create_integration", {
            "ApiId": api_ref, "IntegrationType": "AWS_PROXY", "IntegrationUri": api.function_arn,
            "PayloadFormatVersion": "2.0", "IntegrationMethod": "POST",
        }, f"send every request of {api.name} to {api.function_arn.rpartition(':')[2]}", save_as="integration"))
    target = f"integrations/{integration['IntegrationId']}" if integration else Ref("integrations/{integration[IntegrationId]}")
    routes = pages.items(apis, "get_routes", "Items", ApiId=api_id) if found else []
    route = next((r for r in routes if r["RouteKey"] == "$default"), None)
    if route is None:
        calls.append(Call("apigatewayv2", "create_route", {"ApiId": api_ref, "RouteKey": "$default", "Target": target},
                          f"route every path of {api.name} to the function"))
    elif route.get("Target") != target:
        calls.append(Call("apigatewayv2", "update_route", {"ApiId": api_id, "RouteId": route["RouteId"], "Target": target},
                          f"point the default route of {api.name} at the function"))
    stages = pages.items(apis, "get_stages", "Items", ApiId=api_id) if found else []
    if not any(s["StageName"] == "$default" for s in stages):
        calls.append(Call("apigatewayv2", "create_stage", {"ApiId": api_ref, "StageName": "$default", "AutoDeploy": True},
                          f"publish {api.name} at its default stage"))
    function_name = stage.names.function("api")
    granted = _granted_source(lam, function_name) if found else None
    if granted is not None and granted != stage.names.api_source_arn(api_id):
        calls.append(Call("lambda", "remove_permission", {"FunctionName": function_name, "StatementId": STATEMENT_ID},
                          f"withdraw {function_name}'s permission for an API that is gone"))
    if granted != stage.names.api_source_arn(api_id):
        calls.append(Call("lambda", "add_permission", {
            "FunctionName": stage.names.function("api"), "StatementId": STATEMENT_ID,
            "Action": "lambda:InvokeFunction", "Principal": "apigateway.amazonaws.com",
            "SourceArn": stage.names.api_source_arn(api_id) if found else Ref(stage.names.api_source_arn("{api[ApiId]}")),
        }, f"let {api.name} invoke {stage.names.function('api')}"))
    return calls


def _granted_source(lam, function_name):
    """The SourceArn the kit's permission statement on the API function names, or None."""
    try:
        policy = json.loads(lam.get_policy(FunctionName=function_name)["Policy"])
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise
    for statement in policy.get("Statement", []):
        if statement.get("Sid") == STATEMENT_ID:
            return statement.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn")
    return None


def _exists(describe, missing_code):
    return _found(describe, missing_code) is not None


def _found(read, missing_code):
    """``read()``, or None when AWS answers ``missing_code``: what it reads does not exist."""
    try:
        return read()
    except ClientError as error:
        if error.response["Error"]["Code"] == missing_code:
            return None
        raise
