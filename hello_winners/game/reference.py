"""The reference winners: every contributor's score computed from a raw log with pandas.

This is the answer key the consumer, the API and the notebooks are checked against, so it shares no
code with the consumer and states the rules once, plainly:

- a product's merchant is the origin of its first product/create event in stream order, its
  photographer the origin of its first product/image event (events that fail validation, and
  creates or images whose origin identifies nobody, are skipped: they change nothing);
- a later create or image of a product that already has that contributor is a conflict: ignored;
- every purchase of the product counts one point for both, whether it came before or after them;
- contributors are identified by unique id; the display name is the one on their first counted
  contribution in that role, in stream order;
- only scores of 1 or more are listed, highest first, ties by userId ascending (never at random).

Command line: ``python -m hello_winners.game.reference data/workshop-day.jsonl`` prints the winners as JSON.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable

from hello_winners.errors import EventError
from hello_winners.game.eventlog import read_log, to_frame
from hello_winners.events import validate

__all__ = ["main", "winners"]

ROLES = {"create": "merchant", "image": "photographer"}


def winners(events: Iterable[dict]) -> dict[str, list[dict]]:
    """{"merchant": [...], "photographer": [...]}, each a list of {"userId", "name", "score"}."""
    frame = to_frame(event for event in events if _valid(event))
    counted = frame[frame["kind"].isin(list(ROLES)) & frame["userId"].notna()]
    counted = counted.drop_duplicates(["productId", "kind"])  # the first one is kept: conflicts out
    # value_counts of the categorical productId counts every product of the log, 0 for one never bought, so
    # every counted product maps to a count; mapped as plain values, as pandas 2 maps a categorical to one.
    purchases = frame.loc[frame["kind"] == "purchase", "productId"].value_counts()
    counted = counted.assign(score=counted["productId"].astype(object).map(purchases))
    result = {}
    for kind, role in ROLES.items():
        mine = counted[counted["kind"] == kind]
        names = mine.drop_duplicates("userId").set_index("userId")["name"]
        scores = mine.groupby("userId", observed=True)["score"].sum()
        table = scores[scores >= 1].rename("score").reset_index()
        table = table.sort_values(["score", "userId"], ascending=[False, True])  # a total order: one per user
        result[role] = [{"userId": str(uid), "name": str(names[uid]), "score": int(score)}
                        for uid, score in zip(table["userId"], table["score"])]
    return result


def _valid(event):
    try:
        validate(event)
    except EventError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Print the reference winners of an event log as JSON."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m hello_winners.game.reference LOG.jsonl[.gz]", file=sys.stderr)
        return 2
    print(json.dumps(winners(read_log(args[0])), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
