"""Least-privilege IAM policies: only the actions each function uses, on the exact ARNs it uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hello_winners.view import tables

if TYPE_CHECKING:
    from hello_winners.deploy.models import Names

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
        _allow(("dynamodb:PutItem",), [names.table_arn(tables.REJECTS)]),
        *_logs(names, "consumer"),
    )


def api(names: Names) -> dict:
    return _document(
        _allow(("dynamodb:Query",), [f"{names.table_arn(tables.SCORES)}/index/{tables.SCORES_INDEX}"]),
        _allow(("dynamodb:GetItem",), [names.table_arn(tables.CONTRIBUTIONS)]),
        *_logs(names, "api"),
    )


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
