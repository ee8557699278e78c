"""Finding and deleting a stage's resources: by name prefix, confirmed by the kit's tags.

A resource is the kit's when its name carries the stage prefix and its tags say kit and stage. One
with the prefix but without those tags is somebody else's: it is reported, never deleted. One tagged
for another stage of the kit (stage ``alice-2`` shares the prefix ``hw-alice-``) is that stage's and
is left out altogether. Log groups carry no tags: only the groups of the stage's own function names
are its, never others that merely share the prefix. Deletion runs in reverse dependency order
(mappings, API, functions, roles, tables, stream, queue, log groups), then a second inventory verifies that
nothing of the kit's is left, asking again for a while, as AWS's lists lag behind its deletes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from hello_winners import naming
from hello_winners.targets import pages
from hello_winners.deploy import tagging
from hello_winners.deploy.names import Names
from hello_winners.deploy.planner import live_mappings
from hello_winners.errors import DeployError

ORDER = ("event source mapping", "HTTP API", "function", "role", "table", "stream", "queue", "log group")
GONE = ("ResourceNotFoundException", "NoSuchEntity", "NotFoundException", "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist")
DENIED = ("AccessDeniedException", "AccessDenied")
# Seconds between the verification's inventories, about a minute in all: lists may still show what
# was just deleted.
VERIFY_DELAYS_S = (2, 4, 8, 16, 30)
# Deleting a stream takes minutes on AWS: wait up to ten.
STREAM_GONE = {"Delay": 5, "MaxAttempts": 120}
TABLE_GONE = {"Delay": 2, "MaxAttempts": 150}


@dataclasses.dataclass(frozen=True)
class Found:
    kind: str
    name: str
    ours: bool
    ident: str = ""  # what the delete call needs when it is not the name (mapping UUID, API id)


def inventory(clients: dict[str, Any], prefix: str, stage: str) -> list[Found]:
    """Every resource whose name starts with ``prefix`` but another stage's, in deletion order, each marked ours or not."""
    wanted = naming.tags(stage)
    found = [Found(kind, name, tagging.carries(tags, wanted), ident)
             for kind, name, tags, ident in _listed(clients, prefix, wanted)
             if tags is not None and not _another_stages(tags, stage)]
    return sorted(found, key=lambda f: (ORDER.index(f.kind), f.name))


def stages(clients: dict[str, Any]) -> dict[str, int]:
    """Every stage of the kit that has something left, with how many of its resources are listed.

    Found by name (the kit's ``hw-`` prefix) and confirmed by tags (the kit's, naming a stage), so that
    an instructor can clear a room's account of every participant's stage and of nothing else.
    """
    counts: dict[str, int] = {}
    for _kind, _name, tags, _ident in _listed(clients, naming.KIT_PREFIX, {}):
        if tags and tags.get(naming.KIT_TAG) == naming.KIT and tags.get(naming.STAGE_TAG):
            counts[tags[naming.STAGE_TAG]] = counts.get(tags[naming.STAGE_TAG], 0) + 1
    return dict(sorted(counts.items()))


def teardown(clients: dict[str, Any], prefix: str, stage: str, report: Callable[[str], None] = print,
             sleep: Callable[[float], None] = time.sleep) -> list[Found]:
    """Delete the stage's resources; returns what was removed. Raises if any of the kit's is left."""
    removed, foreign = [], []
    for item in inventory(clients, prefix, stage):
        if not item.ours:
            foreign.append(item)
            continue
        _delete(clients, item)
        removed.append(item)
        report(f"  deleted {item.kind} {item.name}")
    left = _left_after(clients, prefix, stage, sleep)
    if left:
        raise DeployError(f"teardown left {len(left)} resources ({', '.join(f'{f.kind} {f.name}' for f in left)}): "
                          "run teardown again, and if they stay, delete them in the AWS console")
    for item in foreign:
        report(f"  kept {item.kind} {item.name}: its name has the stage prefix but it lacks the kit's tags")
    return removed


def _left_after(clients, prefix, stage, sleep):
    """What of the kit's is still listed, asking again while something is: lists lag behind deletes."""
    for delay in (*VERIFY_DELAYS_S, None):
        left = [f for f in inventory(clients, prefix, stage) if f.ours]
        if not left or delay is None:
            return left
        sleep(delay)


def _another_stages(tags, stage):
    return tags.get(naming.KIT_TAG) == naming.KIT and tags.get(naming.STAGE_TAG) not in (None, stage)


def _delete(clients, item):
    calls = {
        "event source mapping": lambda: clients["lambda"].delete_event_source_mapping(UUID=item.ident),
        "HTTP API": lambda: clients["apigatewayv2"].delete_api(ApiId=item.ident),
        "function": lambda: clients["lambda"].delete_function(FunctionName=item.name),
        "role": lambda: _delete_role(clients["iam"], item.name),
        "table": lambda: _delete_table(clients["dynamodb"], item.name),
        "stream": lambda: _delete_stream(clients["kinesis"], item.name),
        "queue": lambda: clients["sqs"].delete_queue(QueueUrl=item.ident),
        "log group": lambda: clients["logs"].delete_log_group(logGroupName=item.name),
    }
    try:
        calls[item.kind]()
    except ClientError as error:
        if error.response["Error"]["Code"] not in GONE:
            raise
    except WaiterError:
        raise DeployError(f"the {item.kind} {item.name} was still being deleted after several minutes: "
                          "run teardown again later") from None


def _delete_role(iam, name):
    for policy in list(pages.items(iam, "list_role_policies", "PolicyNames", RoleName=name)):
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    for attached in list(pages.items(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name)):
        iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
    iam.delete_role(RoleName=name)


def _delete_table(dynamodb, name):
    dynamodb.delete_table(TableName=name)
    dynamodb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig=TABLE_GONE)


def _delete_stream(kinesis, name):
    """Delete the stream and wait until it is gone; one an earlier run began deleting is only waited for."""
    try:
        kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException" or _stream_status(kinesis, name) != "DELETING":
            raise
    kinesis.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig=STREAM_GONE)


def _stream_status(kinesis, name):
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"]


def _unless_gone(read):
    """``read()``, or None when what it reads was deleted after a list showed it.

    What the caller may not even read (its policy names only its own stage's resources) is somebody
    else's: it reads as untagged, so it is reported and kept.
    """
    try:
        return read()
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code in GONE:
            return None
        if code in DENIED:
            return {}
        raise


def _listed(clients: dict[str, Any], prefix: str, wanted: dict) -> Iterator[tuple]:
    """(kind, name, tags, id) of everything named with the prefix; tags are None for what was deleted meanwhile."""
    functions = {}
    for kind, name, tags, ident in _functions_and_mappings(clients["lambda"], prefix):
        functions.setdefault(name, tags)
        yield kind, name, tags, ident
    yield from _apis(clients["apigatewayv2"], prefix)
    yield from _roles(clients["iam"], prefix)
    yield from _tables(clients["dynamodb"], prefix)
    yield from _streams(clients["kinesis"], prefix)
    yield from _queues(clients["sqs"], prefix)
    yield from _log_groups(clients["logs"], prefix, functions, wanted)


def _functions_and_mappings(lam, prefix):
    for function in pages.items(lam, "list_functions", "Functions"):
        name = function["FunctionName"]
        if not name.startswith(prefix):
            continue
        tags = _unless_gone(lambda: tagging.function_tags(lam, function["FunctionArn"]))
        yield "function", name, tags, ""
        for mapping in _unless_gone(lambda: live_mappings(lam, name)) or []:
            label = f"{mapping['EventSourceArn'].rpartition('/')[2]} -> {name}"
            yield "event source mapping", label, tags, mapping["UUID"]


def _apis(apis, prefix):
    for api in pages.items(apis, "get_apis", "Items"):
        if api["Name"].startswith(prefix):
            yield "HTTP API", api["Name"], api.get("Tags", {}), api["ApiId"]


def _roles(iam, prefix):
    for role in pages.items(iam, "list_roles", "Roles"):
        name = role["RoleName"]
        if name.startswith(prefix):
            yield "role", name, _unless_gone(lambda: tagging.role_tags(iam, name)), ""


def _tables(dynamodb, prefix):
    for name in pages.items(dynamodb, "list_tables", "TableNames"):
        if name.startswith(prefix):
            table = _unless_gone(lambda: dynamodb.describe_table(TableName=name)["Table"])
            tags = table and _unless_gone(lambda: tagging.table_tags(dynamodb, table["TableArn"]))
            yield "table", name, tags, ""


def _streams(kinesis, prefix):
    for name in pages.items(kinesis, "list_streams", "StreamNames"):
        if name.startswith(prefix):
            yield "stream", name, _unless_gone(lambda: tagging.stream_tags(kinesis, name)), ""


def _queues(sqs, prefix):
    for url in pages.items(sqs, "list_queues", "QueueUrls", QueueNamePrefix=prefix):
        name = url.rpartition("/")[2]
        if name.startswith(prefix):
            yield "queue", name, _unless_gone(lambda: sqs.list_queue_tags(QueueUrl=url).get("Tags", {})), url


def _log_groups(logs, prefix, functions, wanted):
    """The log groups of the stage's own function names: Lambda creates them, untagged.

    A group is the stage's while its function is the kit's or gone; never one that only shares the
    prefix (``/aws/lambda/hw-alice-2-...`` is stage alice-2's, not alice's).
    """
    names = Names(prefix, "", "")
    for kind in naming.FUNCTION_KINDS:
        group = names.log_group(kind)
        tags = functions.get(names.function(kind))
        for found in pages.items(logs, "describe_log_groups", "logGroups", logGroupNamePrefix=group):
            if found["logGroupName"] == group:
                yield "log group", group, wanted if tags is None else tags, ""
