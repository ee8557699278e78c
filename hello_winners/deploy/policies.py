"""Least-privilege IAM policies: only the actions each identity calls, on the resources it may touch.

Four kinds:

- each function's execution role (what its handler calls, on the stage's exact ARNs);
- the **room policy**, one managed policy for every participant of a room: what the lessons, ``play``,
  ``status`` and ``teardown`` call, each on the participant's own namespace, ``hw-<stage>-*``, where
  ``<stage>`` is the participant's own tag (``${aws:PrincipalTag/hello-winners:stage}``), so one
  document serves the whole room and its size does not grow with the stage name. ``hw-<stage>-*``
  holds the stage, its ``-play`` stage and the lessons' sandboxes; the room keeps namespaces apart
  by never giving one participant a stage that begins with another's followed by a hyphen
  (hello_winners.deploy.room refuses such a list);
- the **permissions boundary** of every role a participant creates: what the functions' roles need,
  on the namespace of the role's own stage tag. A participant may create a role, or change its
  inline policy, only while it carries this boundary, so no role of theirs does more than a
  function of the kit needs, whatever its inline policy says;
- the **room server's** (hello_winners.room): put the room's events on its stage's stream, and read them
  back after a put whose outcome it could not know; nothing else.

Where AWS cannot scope an action to a namespace (it names no resource, or the resource is an id AWS
picks), the statement is read-only or scoped by a condition AWS documents; UNSCOPED lists what is left.
The embedded AWS (hello_winners.embedded.authorization) evaluates these documents as AWS does.
"""

from __future__ import annotations

import json

from hello_winners import naming
from hello_winners.deploy.names import BOUNDARY_POLICY, Names  # noqa: F401 - the boundary's name, beside its document
from hello_winners.view import tables

VERSION = "2012-10-17"
ROOM_POLICY = "hello-winners-room"
# The participant's own stage, as IAM reads it from their tag (an IAM user's tag, or a session tag).
STAGE_VARIABLE = f"${{aws:PrincipalTag/{naming.STAGE_TAG}}}"
LAMBDA_SERVICE = "lambda.amazonaws.com"
API_GATEWAY_SERVICE = "apigateway.amazonaws.com"
# IAM's quotas on the size of a policy, in characters without whitespace, from the tightest.
MANAGED_LIMIT = 6_144
LIMITS = (("an inline policy of a user", 2_048), ("an inline policy of a group", 5_120),
          ("a managed policy", MANAGED_LIMIT), ("an inline policy of a role", 10_240))
# What Lambda's event source mapping needs of the stream on the function's behalf.
STREAM_READ = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)


def consumer(names: Names) -> dict:
    """The consumer's role: read the stream, keep the tables, send Lambda's record of a batch it gave up on."""
    return _document(
        _allow(STREAM_READ, [names.stream_arn]),
        _allow(("dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:UpdateItem"),
               [names.table_arn(tables.CONTRIBUTIONS), names.table_arn(tables.SCORES)]),
        _allow(("dynamodb:BatchWriteItem",), [names.table_arn(tables.REJECTS)]),
        _allow(("sqs:SendMessage",), [names.queue_arn]),
        *_logs(names, "consumer"),
    )


def api(names: Names) -> dict:
    """The winner API's role: read the top of a role and a product's contributors."""
    return _document(
        _allow(("dynamodb:Query",), [f"{names.table_arn(tables.SCORES)}/index/{tables.SCORES_INDEX}"]),
        _allow(("dynamodb:GetItem",), [names.table_arn(tables.CONTRIBUTIONS)]),
        *_logs(names, "api"),
    )


def room(region: str = "*", account: str = "*", partition: str = "aws", stage: str | None = None) -> dict:
    """The room policy: every participant's, scoped by their own stage tag.

    With ``stage`` it is the same document for that one stage (for an identity without the tag).
    """
    space = _namespace(region, account, partition, stage)
    own = [space.stage, f"{space.stage}-*"]  # the values a resource tag of the participant's may take
    boundary = Names("", region, account, partition).boundary_arn
    roles = space.pattern("iam", "role/", region=False)
    functions = space.pattern("lambda", "function:")
    return _document(
        _allow(STREAM_ACTIONS, [space.pattern("kinesis", "stream/")]),
        _allow(TABLE_ACTIONS, [space.pattern("dynamodb", "table/")]),  # with their indexes: table/NAME/index/...
        _allow(FUNCTION_ACTIONS, [functions]),
        _allow(("lambda:AddPermission",), [functions], {"StringEquals": {"lambda:Principal": API_GATEWAY_SERVICE}}),
        _allow(ROLE_ACTIONS, [roles]),
        _allow(("iam:CreateRole",), [roles], {"ArnEquals": {"iam:PermissionsBoundary": boundary},
                                             "StringLike": {f"aws:RequestTag/{naming.STAGE_TAG}": own}}),
        _allow(BOUNDED_ROLE_ACTIONS, [roles], {"ArnEquals": {"iam:PermissionsBoundary": boundary}}),
        _allow(("iam:TagRole",), [roles], {"StringLike": {f"aws:RequestTag/{naming.STAGE_TAG}": own}}),
        _allow(("iam:PassRole",), [roles], {"StringEquals": {"iam:PassedToService": LAMBDA_SERVICE}}),
        _allow(("iam:GetPolicy",), [boundary]),
        _allow(("logs:DeleteLogGroup",), [space.pattern("logs", "log-group:/aws/lambda/")]),
        _allow(("sqs:" + action for action in QUEUE_ACTIONS), [space.pattern("sqs", "")]),
        _allow(("lambda:CreateEventSourceMapping",), ["*"], {"ArnLike": {"lambda:FunctionArn": functions}}),
        _allow(MAPPING_ACTIONS, [space.arn("lambda", "event-source-mapping:*")],
               {"ArnLike": {"lambda:FunctionArn": functions}}),
        _allow(("apigateway:POST",), [space.apigateway("/apis")],
               {"StringLike": {f"aws:RequestTag/{naming.STAGE_TAG}": own}}),
        _allow(("apigateway:DELETE",), [space.apigateway("/apis/*")],
               {"StringLike": {f"aws:ResourceTag/{naming.STAGE_TAG}": own}}),
        _allow(("apigateway:GET",), [space.apigateway("/apis"), space.apigateway("/apis/*")]),
        _allow(UNSCOPED_LISTING, ["*"]),
    )


def boundary(account: str = "*", partition: str = "aws") -> dict:
    """The permissions boundary of every role a participant creates: what the functions' roles call, on
    the namespace of the role's own stage tag (a role is tagged with its stage, see the room policy), in
    any region: one boundary serves the account wherever its stages are."""
    space = _namespace("*", account, partition, None)
    wanted = {}
    for document in (consumer(_EXAMPLE), api(_EXAMPLE)):
        for statement in document["Statement"]:
            for action in statement["Action"]:
                wanted.setdefault(action.partition(":")[0], set()).add(action)
    where = {"kinesis": space.pattern("kinesis", "stream/"), "dynamodb": space.pattern("dynamodb", "table/"),
             "sqs": space.pattern("sqs", ""), "logs": space.pattern("logs", "log-group:/aws/lambda/")}
    return _document(*(_allow(sorted(actions), [where[service]]) for service, actions in sorted(wanted.items())))


def size(document: dict) -> int:
    """The policy's size as IAM counts it against its quotas: its characters without whitespace."""
    return sum(1 for character in json.dumps(document) if not character.isspace())


def tightest_limit(document: dict) -> tuple[str, int] | None:
    """The tightest of IAM's size quotas (LIMITS) the policy fits, as (what it is for, characters), or None."""
    return next(((kind, limit) for kind, limit in LIMITS if size(document) <= limit), None)


# What the room server calls on its stage's stream: PutRecords to put the room log on it, and the
# three reads its pump makes after a put whose outcome it could not know (a crash, a timeout), to put
# only what is not there yet: Kinesis has no conditional put, so reading back is how it stays exactly once.
ROOM_STREAM = (
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
    "kinesis:PutRecords",
)


def room_server(names: Names) -> dict:
    """The room server's policy: the room's own stream, nothing else (no table, no function, no role)."""
    return _document(_allow(ROOM_STREAM, [names.stream_arn]))


STREAM_ACTIONS = STREAM_READ + (
    "kinesis:AddTagsToStream",
    "kinesis:CreateStream",
    "kinesis:DeleteStream",
    "kinesis:ListTagsForStream",
    "kinesis:PutRecord",
    "kinesis:PutRecords",
)
TABLE_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:CreateTable",
    "dynamodb:DeleteItem",
    "dynamodb:DeleteTable",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:ListTagsOfResource",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:TagResource",
    "dynamodb:UpdateItem",
)
FUNCTION_ACTIONS = (
    "lambda:CreateFunction",
    "lambda:DeleteFunction",
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:GetPolicy",
    "lambda:ListTags",
    "lambda:RemovePermission",
    "lambda:TagResource",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
)
# A role's own actions that cannot widen what it may do: reading it, tagging it (see the room policy),
# removing its inline policies and managed ones, deleting it.
ROLE_ACTIONS = (
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
    "iam:ListRoleTags",
)
# What could widen a role: allowed only on a role that carries the room's boundary (iam:PermissionsBoundary
# is the role's boundary for PutRolePolicy, and the one asked for by PutRolePermissionsBoundary).
BOUNDED_ROLE_ACTIONS = ("iam:PutRolePermissionsBoundary", "iam:PutRolePolicy")
QUEUE_ACTIONS = ("CreateQueue", "DeleteQueue", "GetQueueAttributes", "GetQueueUrl", "ListQueueTags", "TagQueue")
MAPPING_ACTIONS = ("lambda:DeleteEventSourceMapping", "lambda:UpdateEventSourceMapping")
# Listing what a service holds (how teardown and status find a stage's things) takes no resource in AWS's
# Service Authorization Reference: these see every name in the account, and change nothing.
UNSCOPED_LISTING = ("dynamodb:ListTables", "iam:ListRoles", "kinesis:ListStreams", "lambda:ListEventSourceMappings",
                    "lambda:ListFunctions", "logs:DescribeLogGroups", "sqs:ListQueues")
# What AWS cannot scope to a participant's namespace, and what the room policy does instead.
UNSCOPED = {
    "listing": UNSCOPED_LISTING,
    "reading HTTP APIs": ("apigateway:GET",),  # an API's id is AWS's pick; its routes and integrations carry no tags
}
# Names of some stage, to read which actions the functions' roles call.
_EXAMPLE = Names("hw-example-", "*", "*")


class _Namespace:
    """ARN patterns of one participant's namespace, hw-<stage>-*, in one region and account."""

    def __init__(self, names: Names, stage: str) -> None:
        self.names = names
        self.stage = stage

    def arn(self, service: str, resource: str, region: bool = True) -> str:
        return self.names.arn(service, resource, region=region)

    def pattern(self, service: str, kind: str, region: bool = True) -> str:
        return self.arn(service, f"{kind}{self.names.prefix}*", region=region)

    def apigateway(self, path: str) -> str:
        """An API Gateway ARN, which names no account: arn:aws:apigateway:us-east-1::/apis."""
        return f"arn:{self.names.partition}:apigateway:{self.names.region}::{path}"


def _namespace(region, account, partition, stage):
    own = STAGE_VARIABLE if stage is None else naming.stage_name(stage)
    return _Namespace(Names(naming.prefix(own), region, account, partition), own)


def _logs(names, kind):
    group = names.log_group_arn(kind)
    return (
        _allow(("logs:CreateLogGroup",), [group]),
        _allow(("logs:CreateLogStream", "logs:PutLogEvents"), [f"{group}:*"]),
    )


def _allow(actions, resources, condition=None):
    statement = {"Effect": "Allow", "Action": list(actions), "Resource": list(resources)}
    if condition:
        statement["Condition"] = condition
    return statement


def _document(*statements):
    return {"Version": VERSION, "Statement": list(statements)}
