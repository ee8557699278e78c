"""What the lessons print about a stage: its stream as a frame, its scores beside the reference's.

The summaries count only the workshop day's own products and people, so what a participant played
themselves in lesson 1 does not change them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from hello_winners import analysis, events
from hello_winners.game import day, eventlog, reference, stream
from hello_winners.view import tables

if TYPE_CHECKING:
    from hello_winners.workshop.lessons import Stage

__all__ = ["day_summary", "scores_frame", "stream_frame", "versus_reference"]


def stream_frame(kinesis: Any, stream_name: str) -> pd.DataFrame:
    """Everything on a stream, one row per record: shard, sequence number, partition key, kind, product, who."""
    rows = []
    for shard, sequence, event in stream.read_stream(kinesis, stream_name):
        who = events.parse_origin(event.get("origin")) or (None, None)
        kind = events.KINDS.get(event.get("data", {}).get("schema"), "unknown")
        rows.append((shard, sequence, events.partition_key(event), kind, event["data"].get("id"), who[1]))
    return pd.DataFrame(rows, columns=["shard", "sequenceNumber", "partitionKey", "kind", "productId", "name"])


def scores_frame(dynamodb: Any, table_names: dict[str, str]) -> pd.DataFrame:
    """The Scores table as analysis.read_scores gives it: role, userId, name, score."""
    return analysis.read_scores(dynamodb, table_names[tables.SCORES])


def versus_reference(scores: pd.DataFrame, log: list[dict]) -> pd.DataFrame:
    """Per contributor of the day: the table's score next to the reference score, where they differ."""
    expected = reference.winners(log)
    rows = [(role, e["userId"], e["name"], e["score"]) for role in expected for e in expected[role]]
    wanted = pd.DataFrame(rows, columns=["role", "userId", "name", "expected"])
    got = scores[["role", "userId", "score"]].astype({"role": "object", "userId": "object"})
    both = wanted.merge(got, on=["role", "userId"], how="outer").fillna({"expected": 0, "score": 0})
    both = both.astype({"expected": "int64", "score": "int64"})
    return both[both["expected"] != both["score"]].sort_values(["role", "userId"], ignore_index=True)


def day_summary(here: Stage) -> str:
    """Counts in the stage's tables of the workshop day's own products and people, with the reference's.

    Only the day's products and contributors are counted, so what a participant played themselves in
    lesson 1 does not change these lines.
    """
    log = day.workshop_day()
    frame = eventlog.to_frame(log)
    products = set(frame.loc[frame["kind"].isin(["create", "image", "purchase"]), "productId"])
    expected = reference.winners(log)
    dynamodb = here.clients["dynamodb"]
    contributions = analysis.read_contributions(dynamodb, here.tables[tables.CONTRIBUTIONS])
    mine = contributions[contributions["productId"].isin(products)]
    scores = scores_frame(dynamodb, here.tables)
    lines = [(f"Contributions: {len(mine)} of the day's {len(products)} products, "
             f"{int(mine['purchases'].sum())} purchases counted "
             f"(the day has {int((frame['kind'] == 'purchase').sum())})")]
    for role in events.ROLES:
        people = {e["userId"]: e["score"] for e in expected[role]}
        stored = scores[(scores["role"] == role) & scores["userId"].isin(list(people))]
        same = dict(zip(stored["userId"], stored["score"])) == people
        lines.append(f"Scores: {len(stored)} {role}s of the day with sales, every score as the reference's: {same}")
    return "\n".join(lines)
