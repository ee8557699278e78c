"""The frames every analysis starts from: the tables read into pandas, and the event frame of a log or a stream."""

from __future__ import annotations

from collections.abc import Iterable
from os import PathLike
from typing import Any

import pandas as pd
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from hello_winners.game import eventlog
from hello_winners.errors import ConfigError
from hello_winners.events import KINDS, PRODUCT_CREATE, PRODUCT_PURCHASE, PRODUCT_VIEW

#: The event frame's ``kind`` of a product view and of a purchase.
VIEW, PURCHASE = KINDS[PRODUCT_VIEW], KINDS[PRODUCT_PURCHASE]


def _scan(dynamodb, table_name: str) -> list[dict]:
    """Every item of a table, plain Python values, through a paginated, strongly consistent Scan.

    Consistent, because lessons read the tables right after writing them and compare the result.
    """
    deserialize = TypeDeserializer().deserialize
    try:
        pages = dynamodb.get_paginator("scan").paginate(TableName=table_name, ConsistentRead=True)
        return [{k: deserialize(v) for k, v in item.items()} for page in pages for item in page["Items"]]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            raise ConfigError(f"Table {table_name} does not exist; create the tables first or check the "
                              f"stage prefix.") from None
        raise


def _typed(items: list[dict], columns: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(items, columns=list(columns))
    return frame.astype(columns)


def read_scores(dynamodb: Any, table_name: str) -> pd.DataFrame:
    """The Scores table as userId, role, name, score (int64), highest score first, ties by userId."""
    frame = _typed(_scan(dynamodb, table_name),
                   {"userId": "string", "role": "string", "name": "string", "score": "int64"})
    return frame.sort_values(["role", "score", "userId"], ascending=[True, False, True], ignore_index=True)


def read_contributions(dynamodb: Any, table_name: str) -> pd.DataFrame:
    """The Contributions table: productId, its merchant and photographer (null until known), purchases."""
    frame = _typed(_scan(dynamodb, table_name),
                   {"productId": "string", "merchant": "string", "merchantName": "string",
                    "photographer": "string", "photographerName": "string", "purchases": "Int64"})
    frame["purchases"] = frame["purchases"].fillna(0).astype("int64")
    return frame.sort_values("productId", ignore_index=True)


def read_log_frame(path: str | PathLike[str]) -> pd.DataFrame:
    """The event frame of a JSONL (or .jsonl.gz) event log."""
    return eventlog.to_frame(eventlog.read_log(path))


def read_stream_frame(kinesis: Any, stream_name: str) -> pd.DataFrame:
    """The event frame of everything on a stream, read from its beginning, one shard after another."""
    from hello_winners.game import stream

    return eventlog.to_frame(event for _shard, _sequence, event in stream.read_stream(kinesis, stream_name))


def product_names(events: Iterable[dict]) -> dict[str, str]:
    """Each product's name, from its first create (the one that counts), to label charts by name.

    The event frame keeps ids only (a name per row would not fit a 10,000,000-event day), so this reads
    the events themselves: ``product_names(eventlog.read_log(path))``.
    """
    names: dict[str, str] = {}
    for event in events:
        data = event.get("data") or {}
        if data.get("schema") == PRODUCT_CREATE and data.get("id") not in names:
            names[data["id"]] = data.get("name")
    return names


def as_frame(events: pd.DataFrame | Iterable[dict]) -> pd.DataFrame:
    """Accept an event frame or any iterable of events, so a notebook can pass either."""
    return events if isinstance(events, pd.DataFrame) else eventlog.to_frame(events)
