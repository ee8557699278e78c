"""Least-privilege IAM policies: only the actions each identity uses, on the exact ARNs it uses.

Three kinds: each function's execution role (what its handler calls), the participant's (what the
lessons, ``play``, ``status`` and ``teardown`` call), and the room server's (what it calls to put the
room's events on its stage's stream). The embedded AWS enforces the first two, as AWS does; the room
server runs there as the participant.
"""

from __future__ import annotations

from hello_winners import naming
from hello_winners.deploy.names import Names
from hello_winners.view import tables

VERSION = "2012-10-17"
# What Lambda's event source mapping needs of the stream on the function's behalf.
STREAM_READ = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)


def consumer(names: Names) -> dict:
    return _document(
        _allow(STREAM_READ, [names.stream_arn]),
        _allow(("dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:UpdateItem"),
               [names.table_arn(tables.CONTRIBUTIONS), names.table_arn(tables.SCORES)]),
        _allow(("dynamodb:BatchWriteItem",), [names.table_arn(tables.REJECTS)]),
        *_logs(names, "consumer"),
    )


def api(names: Names) -> dict:
    return _document(
        _allow(("dynamodb:Query",), [f"{names.table_arn(tables.SCORES)}/index/{tables.SCORES_INDEX}"]),
        _allow(("dynamodb:GetItem",), [names.table_arn(tables.CONTRIBUTIONS)]),
        *_logs(names, "api"),
    )


def participant(names: Names) -> dict:
    """What a participant needs for one stage (or, with the prefix ``hw-*-``, for every stage of the kit).

    Each statement names the stage's own resources, except where AWS has no name to scope by: event
    source mappings are known by a UUID and HTTP APIs by an id AWS picks (see UNSCOPED).
    """
    kinds = naming.FUNCTION_KINDS
    sandboxes = [table for box in naming.SANDBOXES
                 for table in tables.table_names(naming.sandbox_prefix(names.prefix, box)).values()]
    table_arns = [names.table_arn(variable) for variable in names.tables] + [
        names.arn("dynamodb", f"table/{table}") for table in sandboxes]
    return _document(
        _allow(STREAM_READ + STREAM_MANAGE, [names.stream_arn]),
        _allow(TABLE_ACTIONS, table_arns + [f"{arn}/index/*" for arn in table_arns]),
        _allow(ROLE_ACTIONS, [names.role_arn(kind) for kind in kinds]),
        _allow(FUNCTION_ACTIONS, [names.function_arn(kind) for kind in kinds]),
        _allow(LOG_GROUP_ACTIONS, [arn for kind in kinds for arn in (names.log_group_arn(kind),
                                                                        f"{names.log_group_arn(kind)}:*")]),
        _allow(UNSCOPED["mappings"], ["*"]),
        _allow(MAPPING_ACTIONS, [names.arn("lambda", "event-source-mapping:*")]),
        _allow(UNSCOPED["http apis"], [_without_account(names, "apigateway", path)
                                       for path in ("/apis", "/apis/*", "/tags/*")]),
        _allow(UNSCOPED["log groups"], [names.arn("logs", "log-group:*")]),
        _allow(UNSCOPED["listing"], ["*"]),
    )


# What the room server calls on its stage's stream: PutRecords to put the room log on it, and the
# three reads its pump makes after a put whose outcome it could not know (a crash, a timeout), to put
# only what is not there yet: Kinesis has no conditional put, so reading back is how it stays exactly once.
ROOM_STREAM = (
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
    "kinesis:PutRecords",
)


def room(names: Names) -> dict:
    """The room server's policy: the room's own stream, nothing else (no table, no function, no role)."""
    return _document(_allow(ROOM_STREAM, [names.stream_arn]))


STREAM_MANAGE = (
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
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:TagResource",
    "dynamodb:UpdateItem",
)
ROLE_ACTIONS = (
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
    "iam:ListRoleTags",
    "iam:PassRole",
    "iam:PutRolePolicy",
    "iam:TagRole",
)
FUNCTION_ACTIONS = (
    "lambda:AddPermission",
    "lambda:CreateFunction",
    "lambda:DeleteFunction",
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:GetPolicy",
    "lambda:InvokeFunction",
    "lambda:ListTags",
    "lambda:RemovePermission",
    "lambda:TagResource",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
)
LOG_GROUP_ACTIONS = (
    "logs:DeleteLogGroup",
    "logs:FilterLogEvents",
    "logs:GetLogEvents",
)
MAPPING_ACTIONS = (
    "lambda:DeleteEventSourceMapping",
    "lambda:GetEventSourceMapping",
    "lambda:UpdateEventSourceMapping",
)
# Actions AWS cannot scope by the stage's names: a mapping's ARN holds only its UUID, creating and
# listing mappings take no resource at all, an HTTP API's ARN holds the id API Gateway picks, and
# listing log groups is authorized on the account's log groups as a whole, and listing what a service
# holds (how teardown finds a stage's leftovers) takes no resource.
UNSCOPED = {
    "listing": ("dynamodb:ListTables", "iam:ListRoles", "kinesis:ListStreams", "lambda:ListFunctions"),
    "mappings": ("lambda:CreateEventSourceMapping", "lambda:ListEventSourceMappings"),
    "http apis": ("apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST", "apigateway:PUT"),
    "log groups": ("logs:DescribeLogGroups",),
}


def _without_account(names, service, resource):
    """An ARN of a service whose ARNs name no account, e.g. arn:aws:apigateway:us-east-1::/apis."""
    return f"arn:{names.partition}:{service}:{names.region}::{resource}"


def _logs(names, kind):
    group = names.log_group_arn(kind)
    return (
        _allow(("logs:CreateLogGroup",), [group]),
        _allow(("logs:CreateLogStream", "logs:PutLogEvents"), [f"{group}:*"]),
    )


def _allow(actions, resources):
    return {"Effect": "Allow", "Action": list(actions), "Resource": list(resources)}


def _document(*statements):
    return {"Version": VERSION, "Statement": list(statements)}
