"""`hello-winners room` and `policy --room` from the terminal, without a server (pure tier)."""

import json

import pytest

from hello_winners import cli, events
from hello_winners.errors import ConfigError
from hello_winners.game import eventlog
from hello_winners.room import control
from hello_winners.room.config import join_hosts, parse_listen
from hello_winners.room.durable import AppendLog


def test_the_room_servers_policy_is_its_stream_and_nothing_else(capsys):
    assert cli.main(["policy", "--room", "--stage", "ana-room", "--region", "eu-west-1", "--account", "123456789012"]) == 0
    policy = json.loads(capsys.readouterr().out)
    assert policy["Statement"] == [{
        "Effect": "Allow",
        "Action": ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards", "kinesis:PutRecords"],
        "Resource": ["arn:aws:kinesis:eu-west-1:123456789012:stream/hw-ana-room-retail-stream"],
    }]


def test_status_says_when_no_room_server_runs(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HELLO_WINNERS_STATE_DIR", str(tmp_path))
    assert cli.main(["room", "status"]) == 3
    assert capsys.readouterr().out.startswith("room server: not running")


def test_export_writes_the_room_log_as_an_event_log_with_its_winners(tmp_path, monkeypatch):
    monkeypatch.setenv("HELLO_WINNERS_STATE_DIR", str(tmp_path / "state"))
    control.folder().mkdir(parents=True)
    day = [events.product_create("m1", "Ana", "room-1", brand="B", name="N", description="D", category="Shoes"),
           events.product_image("p1", "Bo", "room-1", "/photos/0123.jpg"),
           events.product_purchase("c1", "Cy", "room-1")]
    AppendLog(control.folder() / "events.jsonl").append([events.encode(e) for e in day])
    with open(control.folder() / "events.jsonl", "ab") as log:
        log.write(b'{"schema": "torn')  # a line being written as the export reads: left for next time
    out = tmp_path / "our-day.jsonl.gz"
    assert cli.main(["room", "export", str(out)]) == 0
    assert list(eventlog.read_log(out)) == day
    winners = json.loads((tmp_path / "our-day.jsonl.gz.winners.json").read_text())
    assert winners["merchant"] == [{"userId": "m1", "name": "Ana", "score": 1}]


def test_export_of_no_room_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HELLO_WINNERS_STATE_DIR", str(tmp_path))
    assert cli.main(["room", "export", str(tmp_path / "x.jsonl")]) == 1
    assert "there is no room log" in capsys.readouterr().err


@pytest.mark.parametrize("given, expected", [
    ("127.0.0.1:8800", ("127.0.0.1", 8800)), ("0.0.0.0:9000", ("0.0.0.0", 9000)), (":9100", ("127.0.0.1", 9100)),
    ("192.168.1.23", ("192.168.1.23", 8800)), ("[::1]:8800", ("::1", 8800)),
])
def test_listen_addresses(given, expected):
    assert parse_listen(given) == expected


@pytest.mark.parametrize("given", ["room.local:8800", "127.0.0.1:http", "127.0.0.1:70000"])
def test_a_listen_address_that_is_not_one_is_refused_in_one_sentence(given):
    with pytest.raises(ConfigError, match="--listen"):
        parse_listen(given)


def test_all_addresses_means_every_interface_loopback_last():
    found = join_hosts("0.0.0.0")
    assert found and found[-1].startswith("127.") and join_hosts("10.1.2.3") == ["10.1.2.3"]
