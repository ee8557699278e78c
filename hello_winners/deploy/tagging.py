"""The tags of the kit's resources, read the same way for every service: as a plain dict.

The planner reads them to tag again what an interrupted deploy left untagged; teardown reads them to
tell the kit's resources from look-alikes. Each service lists tags in its own shape, some in pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hello_winners.targets import pages


def carries(tags: dict[str, str], wanted: dict[str, str]) -> bool:
    """True when ``tags`` hold every one of ``wanted`` with its value."""
    return all(tags.get(key) == value for key, value in wanted.items())


def as_pairs(tags: dict[str, str]) -> list[dict[str, str]]:
    """Tags as IAM and DynamoDB take them: [{"Key": ..., "Value": ...}]."""
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def stream_tags(kinesis: Any, name: str) -> dict[str, str]:
    """A stream's tags. ListTagsForStream pages by the last key seen; boto3 has no paginator for it."""
    found, start = {}, {}
    while True:
        page = kinesis.list_tags_for_stream(StreamName=name, **start)
        found.update(_as_dict(page["Tags"]))
        if not page.get("HasMoreTags") or not page["Tags"]:
            return found
        start = {"ExclusiveStartTagKey": page["Tags"][-1]["Key"]}


def table_tags(dynamodb: Any, arn: str) -> dict[str, str]:
    """A table's tags, by its ARN."""
    return _as_dict(pages.items(dynamodb, "list_tags_of_resource", "Tags", ResourceArn=arn))


def role_tags(iam: Any, name: str) -> dict[str, str]:
    """An IAM role's tags."""
    return _as_dict(pages.items(iam, "list_role_tags", "Tags", RoleName=name))


def function_tags(lam: Any, arn: str) -> dict[str, str]:
    """A Lambda function's tags, by its ARN (ListTags answers them all at once)."""
    return lam.list_tags(Resource=arn).get("Tags", {})


def _as_dict(pairs: Iterable[dict]) -> dict[str, str]:
    return {pair["Key"]: pair["Value"] for pair in pairs}
