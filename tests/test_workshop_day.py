"""The recorded workshop day: valid, reproducible, a full game, and its winners file is the reference's."""

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from hello_winners import events as E
from hello_winners.errors import EventError
from hello_winners.game.eventlog import COLUMNS, read_log, to_frame
from hello_winners.game.reference import winners
from hello_winners.game.simulator import simulate

DATA = Path(__file__).resolve().parent.parent / "data"
LOG = DATA / "workshop-day.jsonl"
# The command in data/README.md.
COMMAND = {"seed": 51, "participants": 30, "views_per_customer": 50, "category_views_per_customer": 12}


@pytest.fixture(scope="module")
def day():
    return list(read_log(LOG))


@pytest.fixture(scope="module")
def expected():
    return json.loads((DATA / "workshop-day.winners.json").read_text(encoding="utf-8"))


def test_every_line_validates(day):
    assert all(E.validate(event) for event in day)
    assert 1000 < len(day) < 5000 and LOG.stat().st_size < 1_500_000


def test_the_log_is_what_the_documented_command_writes(day):
    assert LOG.read_bytes() == b"".join(E.encode(event) + b"\n" for event in simulate(**COMMAND))


def test_every_phase_of_the_game_is_there(day):
    kinds = Counter(E.kind(event) for event in day)
    assert kinds["create"] == 90 and kinds["purchase"] == 90 and kinds["image"] >= 90
    assert kinds["product-view"] and kinds["category-view"]
    people = {role: {E.parse_origin(e["origin"])[0] for e in day if e["origin"].split("/")[1] == role}
              for role in (E.ROLE_MERCHANT, E.ROLE_PHOTOGRAPHER, E.ROLE_CUSTOMER)}
    assert len(people[E.ROLE_MERCHANT]) == 30
    assert people[E.ROLE_MERCHANT] == people[E.ROLE_PHOTOGRAPHER] == people[E.ROLE_CUSTOMER]


def test_some_purchases_come_before_the_photo(day):
    photographed, early = set(), 0
    for event in day:
        if E.kind(event) == "image":
            photographed.add(event["data"]["id"])
        elif E.kind(event) == "purchase":
            early += event["data"]["id"] not in photographed
    assert early > 0


def test_the_winners_file_is_the_reference_result(day, expected):
    assert winners(day) == expected


def test_the_day_is_interesting_to_watch(expected):
    for role in ("merchant", "photographer"):
        scores = [row["score"] for row in expected[role]]
        assert scores[0] > scores[1] and scores[0] < 2 * scores[1]  # a clear winner, not a runaway
        assert len(scores) != len(set(scores))  # at least one tie
        assert sum(scores) == 90


def test_the_day_as_a_frame_has_the_contracts_typed_columns(day):
    frame = to_frame(day)
    assert list(frame.columns) == COLUMNS
    assert {column: str(dtype) for column, dtype in frame.dtypes.items()} == {
        "position": "int64", "time": "datetime64[ns, UTC]", "kind": "category", "productId": "category",
        "userId": "category", "name": "category", "category": "category"}
    assert list(frame["kind"].cat.categories) == ["create", "image", "purchase", "product-view", "category-view"]
    for column in ("productId", "userId", "name", "category"):
        categories = frame[column].cat.categories
        assert categories.dtype == "string" and categories.is_monotonic_increasing and categories.is_unique
    assert [v if isinstance(v, str) else None for v in frame["productId"]] == [e["data"].get("id") for e in day]
    assert frame["time"].is_monotonic_increasing and frame["position"].tolist() == list(range(len(day)))
    views = frame[frame["kind"] == "category-view"]
    assert views["productId"].isna().all() and views["category"].notna().all()
    creates = frame[frame["kind"] == "create"]
    assert creates["category"].notna().all() and creates["userId"].str.startswith("amzn1.account.AH").all()
    assert frame.loc[frame["kind"] == "purchase", "category"].isna().all()


def test_a_damaged_log_names_the_line(tmp_path):
    damaged = tmp_path / "damaged.jsonl"
    lines = LOG.read_bytes().splitlines()
    damaged.write_bytes(b"\n".join([*lines[:2], b'{"truncated": ', *lines[3:5]]))
    with pytest.raises(EventError, match="line 3: record is not valid JSON"):
        list(read_log(damaged))
    with pytest.raises(EventError, match="does not exist"):
        list(read_log(tmp_path / "missing.jsonl"))


@pytest.mark.parametrize("path, said", [(".", "is a directory"), (os.devnull, "is not a regular file")])
def test_a_log_that_is_not_a_file_is_named_as_such(path, said):
    with pytest.raises(EventError, match=said):
        list(read_log(path))
