"""The lessons in a room, without a room server (pure tier): the announced address, lesson 4's boards side by
side and why they differ, and a participant who shares nothing unless they said yes."""

import pytest

from hello_winners.errors import ConfigError
from hello_winners.room import kit
from hello_winners.workshop import inroom
from hello_winners.workshop.exercises import checks, solutions

ROOM = {"merchant": [{"userId": "m1", "name": "Mia", "score": 3}, {"userId": "m2", "name": "Dee", "score": 1}],
        "photographer": [{"userId": "f1", "name": "Finn", "score": 3}]}


def test_the_announced_address_carries_the_code(monkeypatch):
    monkeypatch.setenv(kit.ROOM_ENV, "http://192.168.1.23:8800/join?code=k7qx3m")
    assert inroom.announced() == ("http://192.168.1.23:8800", "K7QX3M")
    assert kit.parse_address("http://127.0.0.1:8800", "abc") == ("http://127.0.0.1:8800", "ABC")
    for wrong in ("192.168.1.23:8800", "ftp://x/join?code=A"):
        with pytest.raises(ConfigError):
            kit.parse_address(wrong)
    with pytest.raises(ConfigError, match="--code"):
        kit.parse_address("http://127.0.0.1:8800/join")


def test_equal_boards_say_so():
    frame = inroom.side_by_side(ROOM, ROOM)
    assert frame["same"].all() and list(frame["yours"]) == ["Mia", "Dee", "Finn"]
    assert inroom.why_different(frame, extra=0, missing=0, behind=0) == [
        "Your leaderboard is the room's: the same people, with the same scores."]


def test_different_boards_name_the_rows_and_the_likeliest_cause():
    mine = {"merchant": [{"userId": "m1", "name": "Mia", "score": 2}, ROOM["merchant"][1],
                         {"userId": "workshop-me", "name": "Me", "score": 1}], "photographer": ROOM["photographer"]}
    frame = inroom.side_by_side(mine, ROOM)
    assert list(frame.loc[~frame["same"], "rank"]) == [1, 3]
    said = inroom.why_different(frame, extra=3, missing=1, behind=1)
    assert said[0] == "The boards differ at merchant #1, merchant #3."
    assert "1 of the room's events are not on your stream yet (your follower is 1 behind" in said[1]
    assert "3 events that are not the room's" in said[2]
    assert "has not counted them all yet" in inroom.why_different(frame, 0, 0, 0)[1]


def test_a_check_reports_nothing_unless_the_participant_said_yes(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HELLO_WINNERS_STATE_DIR", str(tmp_path))
    membership = kit.Membership("http://127.0.0.1:9", "ABCDEF", "t" * 32, "Ana", "test-share", "embedded", share=False)
    membership.save()
    inroom.report_as(membership)
    try:
        checks.decode_record(solutions.decode_record)
        assert kit.waiting("test-share") == []
        membership.share = True
        checks.decode_record(solutions.decode_record)  # the room at port 9 never answers: the report waits
        [report] = kit.waiting("test-share")
        assert set(report) == {"id", "exercise", "outcome", "hint", "at"}
        assert (report["exercise"], report["outcome"], report["hint"]) == ("decode_record", "passed", None)
    finally:
        inroom.report_as(None)
    assert capsys.readouterr().out.count("decode_record: passed") == 2
