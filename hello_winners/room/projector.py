"""What the projector shows, as data: the room's counts, the consumer's leaderboards (from the deployed
winner API), the reference winners of the room log beside them, and whether the two agree.

The server sends this over server-sent events whenever it changes; the page only draws it, writing
every name as text. Pure: the boards and the log's events are passed in.
"""

from __future__ import annotations

from collections.abc import Iterable

from hello_winners.events import ROLES
from hello_winners.game import reference
from hello_winners.view.board import summary

SHOWN = 10  # rows of each board on the projector


def reference_boards(room_events: Iterable[dict], top: int = 100) -> dict[str, list[dict]]:
    """The reference winners of the room log (the answer key, computed apart from the consumer)."""
    found = reference.winners(room_events)
    return {role: found[role][:top] for role in ROLES}


def agree(consumer: dict[str, list[dict]] | None, truth: dict[str, list[dict]], top: int = SHOWN) -> bool | None:
    """Whether the consumer's boards rank the same people with the same scores as the reference (top
    rows of each role); None while the consumer's boards are unknown."""
    if consumer is None:
        return None
    return all(_ranked(consumer.get(role, [])[:top]) == _ranked(truth.get(role, [])[:top]) for role in ROLES)


def _ranked(entries: list[dict]) -> list[tuple[str, int]]:
    return [(entry["userId"], int(entry["score"])) for entry in entries]


def payload(counts: dict[str, int], consumer: dict[str, list[dict]] | None, consumer_error: str | None,
            truth: dict[str, list[dict]], pump: dict, joining_open: bool, log_length: int) -> dict:
    """One message of the projector's feed."""
    return {
        "counts": counts,
        "joining_open": joining_open,
        "log": log_length,
        "consumer": {"boards": consumer, "error": consumer_error,
                     "summary": summary(consumer) if consumer is not None else None},
        "reference": {"boards": truth, "summary": summary(truth)},
        "agree": agree(consumer, truth),
        "pump": pump,
    }
