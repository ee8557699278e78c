"""The reference winners agree with a small log computed by hand, and with a plain fold on simulated days."""

import json
import sys
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from properties import examples

from hello_winners import events as E
from hello_winners.game.eventlog import write_log
from hello_winners.game.reference import main, winners
from hello_winners.game.simulator import simulate

ANN, BOB, CAT, DAN, EVE = (f"amzn1.account.AH{name}" for name in ("ANN", "BOB", "0CAT", "DAN", "EVE"))
T = "2017-06-13T16:00:00.000Z"


def create(uid, name, pid):
    return E.product_create(uid, name, pid, brand="B", name="N", description="D", category="Tops", time=T)


def image(uid, name, pid):
    return E.product_image(uid, name, pid, "IMG.jpg", time=T)


def buy(pid):
    return E.product_purchase(DAN, "Dan", pid, time=T)


HAND_LOG = [
    create(ANN, "Ann", "p1"),
    create(BOB, "Bob", "p2"),
    image(CAT, "Cat", "p1"),
    buy("p2"),                                   # p2 is bought before it is photographed
    create(BOB, "Bob", "p1"),                    # conflict: p1 already has its merchant (Ann)
    image(ANN, "Ann", "p2"),
    buy("p1"),
    {**buy("p2"), "schema": E.ENVELOPE_EGRESS, "eventId": "shardId-000000000001:7",
     "timeIngest": T, "timeProcess": T},         # the egress envelope counts too
    create(CAT, "Cat", "p3"),
    {**image(EVE, "Eve", "p3"), "origin": "anonymous"},  # identifies nobody: changes nothing
    image(BOB, "Bob", "p3"),
    buy("p3"),
    buy("p4"),                                   # never created: nobody scores
    image(DAN, "Dan", "p1"),                     # conflict: p1 already has its photographer (Cat)
    {**buy("p1"), "extra": "x"},                 # invalid: the consumer rejects it, so it never counts
    create(EVE, "Eve", "p5"),                    # never bought: Eve is not listed
    create(ANN, "Annie", "p6"),                  # Ann keeps the name of her first contribution
    buy("p6"),
]

# By hand: p1 bought 1, p2 bought 2, p3 bought 1, p6 bought 1.
# Merchants: Ann p1+p6 = 2, Bob p2 = 2, Cat p3 = 1. Photographers: Ann p2 = 2, Cat p1 = 1, Bob p3 = 1.
EXPECTED = {
    "merchant": [{"userId": ANN, "name": "Ann", "score": 2}, {"userId": BOB, "name": "Bob", "score": 2},
                 {"userId": CAT, "name": "Cat", "score": 1}],
    "photographer": [{"userId": ANN, "name": "Ann", "score": 2}, {"userId": CAT, "name": "Cat", "score": 1},
                     {"userId": BOB, "name": "Bob", "score": 1}],
}


def test_the_reference_agrees_with_the_hand_computed_log():
    assert winners(HAND_LOG) == EXPECTED


def test_ties_are_listed_by_user_id_whatever_the_arrival_order():
    assert winners([HAND_LOG[1], HAND_LOG[0], *HAND_LOG[2:]]) == EXPECTED  # Bob's product first now
    assert [row["name"] for row in EXPECTED["photographer"][1:]] == ["Cat", "Bob"]  # AH0CAT < AHBOB


def test_an_empty_log_has_no_winners():
    assert winners([]) == {"merchant": [], "photographer": []}


def fold(events):
    """The rules as a plain loop, a second opinion on the pandas code."""
    merchant, photographer, bought = {}, {}, Counter()
    for event in events:
        data, who = event["data"], E.parse_origin(event["origin"])
        kind = E.kind(event)
        if kind == "create" and who:
            merchant.setdefault(data["id"], who)
        elif kind == "image" and who:
            photographer.setdefault(data["id"], who)
        elif kind == "purchase":
            bought[data["id"]] += 1
    result = {}
    for role, owners in (("merchant", merchant), ("photographer", photographer)):
        score, name = Counter(), {}
        for pid, (uid, display) in owners.items():
            score[uid] += bought[pid]
            name.setdefault(uid, display)
        result[role] = [{"userId": uid, "name": name[uid], "score": s}
                        for uid, s in sorted(score.items(), key=lambda item: (-item[1], item[0])) if s >= 1]
    return result


@settings(max_examples=examples(15), deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 12), st.floats(0, 2))
def test_the_reference_agrees_with_a_plain_fold_on_simulated_days(seed, participants, skew):
    day = list(simulate(seed=seed, participants=participants, skew=skew, retakes=0.3))
    assert winners(day) == fold(day)


def test_the_command_line_prints_the_winners_as_indented_json(tmp_path, capsys, monkeypatch):
    log = tmp_path / "hand.jsonl"
    write_log(log, HAND_LOG)
    assert main([str(log)]) == 0
    assert capsys.readouterr() == (json.dumps(EXPECTED, indent=2) + "\n", "")
    monkeypatch.setattr(sys, "argv", ["python -m hello_winners.game.reference", str(log)])
    assert main() == 0
    assert json.loads(capsys.readouterr().out) == EXPECTED


@pytest.mark.parametrize("argv", [[], ["a.jsonl", "b.jsonl"], ["-h"], ["--help"]])
def test_the_command_line_without_exactly_one_log_prints_its_usage(argv, capsys):
    assert main(argv) == 2
    assert capsys.readouterr() == ("", "usage: python -m hello_winners.game.reference LOG.jsonl[.gz]\n")
