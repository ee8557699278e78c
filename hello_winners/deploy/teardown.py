"""Finding and deleting a stage's resources: by name prefix, confirmed by the kit's tags.

A resource is the kit's when its name carries the stage prefix and its tags say kit and stage. One
with the prefix but without those tags is somebody else's: it is reported, never deleted. Deletion
runs in reverse dependency order (mappings, API, functions, roles, tables, stream, log groups), then
a second inventory verifies that nothing of the kit's is left.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from botocore.exceptions import ClientError

from hello_winners import naming
from hello_winners.errors import DeployError

ORDER = ("event source mapping", "HTTP API", "function", "role", "table", "stream", "log group")


@dataclasses.dataclass(frozen=True)
class Found:
    kind: str
    name: str
    ours: bool
    ident: str = ""  # what the delete call needs when it is not the name (mapping UUID, API id)


def inventory(clients: dict[str, Any], prefix: str, stage: str) -> list[Found]:
    """Every resource whose name starts with ``prefix``, in deletion order, each marked ours or not."""
    tags = naming.tags(stage)
    found = [*_functions_and_mappings(clients["lambda"], prefix, tags), *_apis(clients["apigatewayv2"], prefix, tags),
             *_roles(clients["iam"], prefix, tags), *_tables(clients["dynamodb"], prefix, tags),
             *_streams(clients["kinesis"], prefix, tags), *_log_groups(clients["logs"], prefix)]
    return sorted(found, key=lambda f: (ORDER.index(f.kind), f.name))


def teardown(clients: dict[str, Any], prefix: str, stage: str,
             report: Callable[[str], None] = print) -> list[Found]:
    """Delete the stage's resources; returns what was removed. Raises if any of the kit's is left."""
    removed, foreign = [], []
    for item in inventory(clients, prefix, stage):
        if not item.ours:
            foreign.append(item)
            continue
        _delete(clients, item)
        removed.append(item)
        report(f"  deleted {item.kind} {item.name}")
    left = [f for f in inventory(clients, prefix, stage) if f.ours]
    if left:
        raise DeployError(f"teardown left {len(left)} resources ({', '.join(f'{f.kind} {f.name}' for f in left)}): "
                          "run teardown again, and if they stay, delete them in the AWS console")
    for item in foreign:
        report(f"  kept {item.kind} {item.name}: its name has the stage prefix but it lacks the kit's tags")
    return removed


def _delete(clients, item):
    calls = {
        "event source mapping": lambda: clients["lambda"].delete_event_source_mapping(UUID=item.ident),
        "HTTP API": lambda: clients["apigatewayv2"].delete_api(ApiId=item.ident),
        "function": lambda: clients["lambda"].delete_function(FunctionName=item.name),
        "role": lambda: _delete_role(clients["iam"], item.name),
        "table": lambda: _delete_table(clients["dynamodb"], item.name),
        "stream": lambda: _delete_stream(clients["kinesis"], item.name),
        "log group": lambda: clients["logs"].delete_log_group(logGroupName=item.name),
    }
    try:
        calls[item.kind]()
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("ResourceNotFoundException", "NoSuchEntity", "NotFoundException"):
            raise


def _delete_role(iam, name):
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
    iam.delete_role(RoleName=name)


def _delete_table(dynamodb, name):
    dynamodb.delete_table(TableName=name)
    dynamodb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 60})


def _delete_stream(kinesis, name):
    kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
    kinesis.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 60})


def _ours(tags, wanted):
    return all(tags.get(k) == v for k, v in wanted.items())


def _functions_and_mappings(lam, prefix, wanted):
    for page in lam.get_paginator("list_functions").paginate():
        for function in page["Functions"]:
            if not function["FunctionName"].startswith(prefix):
                continue
            ours = _ours(lam.list_tags(Resource=function["FunctionArn"]).get("Tags", {}), wanted)
            yield Found("function", function["FunctionName"], ours)
            mappings = lam.list_event_source_mappings(FunctionName=function["FunctionName"])["EventSourceMappings"]
            for mapping in mappings:
                yield Found("event source mapping", f"{mapping['EventSourceArn'].rpartition('/')[2]} -> "
                            f"{function['FunctionName']}", ours, mapping["UUID"])


def _apis(apis, prefix, wanted):
    for api in apis.get_apis().get("Items", []):
        if api["Name"].startswith(prefix):
            yield Found("HTTP API", api["Name"], _ours(api.get("Tags", {}), wanted), api["ApiId"])


def _roles(iam, prefix, wanted):
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            if role["RoleName"].startswith(prefix):
                tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role["RoleName"])["Tags"]}
                yield Found("role", role["RoleName"], _ours(tags, wanted))


def _tables(dynamodb, prefix, wanted):
    for page in dynamodb.get_paginator("list_tables").paginate():
        for name in page["TableNames"]:
            if name.startswith(prefix):
                arn = dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
                tags = {t["Key"]: t["Value"] for t in dynamodb.list_tags_of_resource(ResourceArn=arn).get("Tags", [])}
                yield Found("table", name, _ours(tags, wanted))


def _streams(kinesis, prefix, wanted):
    for page in kinesis.get_paginator("list_streams").paginate():
        for name in page["StreamNames"]:
            if name.startswith(prefix):
                tags = {t["Key"]: t["Value"] for t in kinesis.list_tags_for_stream(StreamName=name)["Tags"]}
                yield Found("stream", name, _ours(tags, wanted))


def _log_groups(logs, prefix):
    """The functions' log groups: Lambda creates them, named after functions that carried our tags."""
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=f"/aws/lambda/{prefix}"):
        for group in page["logGroups"]:
            yield Found("log group", group["logGroupName"], True)
