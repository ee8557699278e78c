"""The room log and the pump (pure tier: files and moto's in-process Kinesis): what was acknowledged
survives a crash, positions never change, and the stream gets every event once, in order per product,
whenever the pump or the stream fails."""

import asyncio
import random
from collections import Counter

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from moto import mock_aws

from hello_winners import events
from hello_winners.game import stream
from hello_winners.game.eventlog import read_log
from hello_winners.room.durable import AppendLog, GroupCommit
from hello_winners.room.onstream import Cursor, next_batch
from hello_winners.room.pump import Pump

STREAM = "hw-test-room-retail-stream"


def line(n, product="p1"):
    return events.encode(events.product_purchase("c", "C", product, time=f"2026-01-01T10:00:{n % 60:02d}.{n // 60:03d}Z"))


def test_a_torn_last_line_is_cut_and_positions_never_change(tmp_path):
    path = tmp_path / "events.jsonl"
    log = AppendLog(path)
    assert log.append([line(0), line(1)]) == 0 and log.append([line(2)]) == 2
    log.close()
    with open(path, "ab") as f:
        f.write(line(3)[:40])  # a crash in the middle of a write that was never acknowledged
    again = AppendLog(path)
    assert len(again) == 3 and again.read(1, 3) == [line(1), line(2)] and again.read(5) == []
    assert again.append([line(4)]) == 3
    assert [e["timeOrigin"] for e in read_log(path)][-1] == events.decode(line(4))["timeOrigin"]  # the kit's format


def test_appends_waiting_together_share_one_fsync_and_each_learns_its_position(tmp_path, monkeypatch):
    log = AppendLog(tmp_path / "events.jsonl")
    writes = []
    original = log.append
    monkeypatch.setattr(log, "append", lambda lines: writes.append(len(lines)) or original(lines))
    commit = GroupCommit(log)

    async def many():
        return await asyncio.gather(*(commit.append(line(n)) for n in range(50)))

    assert asyncio.run(many()) == list(range(50))
    assert commit.durable == 50 and sum(writes) == 50 and len(writes) < 50


def test_a_failed_write_is_never_acknowledged_and_later_appends_are_refused(tmp_path, monkeypatch):
    log = AppendLog(tmp_path / "events.jsonl")
    commit = GroupCommit(log)
    monkeypatch.setattr(log, "append", lambda lines: (_ for _ in ()).throw(OSError(28, "No space left on device")))

    async def one():
        return await commit.append(line(0))

    with pytest.raises(Exception, match="could not write events.jsonl"):
        asyncio.run(one())
    assert commit.durable == 0 and "restart the room" in commit.broken


def test_a_batch_holds_one_event_per_product_within_the_calls_limits():
    assert next_batch([b"a", b"b", b"c", b"d"], ["p1", "p2", "p1", "p3"]) == 2
    assert next_batch([b"a"] * 600, [f"p{i}" for i in range(600)]) == stream.MAX_RECORDS
    big = b"x" * (1024 * 1024 - 10)
    assert next_batch([big] * 6, [f"p{i}" for i in range(6)]) == 5  # at most 5 MiB a call


@pytest.fixture
def kinesis():
    with mock_aws():
        client = boto3.client("kinesis", region_name="us-east-1")
        client.create_stream(StreamName=STREAM, ShardCount=2)
        client.get_waiter("stream_exists").wait(StreamName=STREAM)
        yield client


def room_log(tmp_path, count, products=7):
    log = AppendLog(tmp_path / "events.jsonl")
    rng = random.Random(count)
    log.append([line(n, f"p{rng.randrange(products)}") for n in range(count)])
    return log


def on_stream(kinesis):
    return [data for _, _, data in stream.read_records(kinesis, STREAM)]


def assert_exactly_the_log(kinesis, log):
    got = on_stream(kinesis)
    assert Counter(got) == Counter(log.read())
    for product in {events.decode(x)["data"]["id"] for x in log.read()}:  # per product: the log's order
        mine = [x for x in log.read() if events.decode(x)["data"]["id"] == product]
        assert [x for x in got if events.decode(x)["data"]["id"] == product] == mine


def test_the_pump_puts_the_durable_log_on_the_stream_once_in_order_per_product(tmp_path, kinesis):
    log = room_log(tmp_path, 120)
    durable = [100]
    pump = Pump(kinesis, STREAM, log, lambda: durable[0], tmp_path / "pumped.json", sleep=lambda s: None)
    while pump.step():
        pass
    assert pump.status() == {"on_stream": 100, "waiting": 0, "error": None, "failing_since": None}
    durable[0] = 120
    while pump.step():
        pass
    assert_exactly_the_log(kinesis, log)
    assert Cursor(tmp_path / "pumped.json").position == 120


class Crash(Exception):
    """The pump's process dies here."""


@pytest.mark.parametrize("where", ["before the put", "after the put", "halfway through the put"])
def test_a_pump_killed_at_any_point_puts_nothing_twice_when_it_starts_again(tmp_path, kinesis, monkeypatch, where):
    log = room_log(tmp_path, 60)
    cursor = tmp_path / "pumped.json"
    first = Pump(kinesis, STREAM, log, lambda: 60, cursor, sleep=lambda s: None)
    first.step()
    real_put = stream.put_batch

    def crashing(kinesis_, name, batch, **kwargs):
        if where == "halfway through the put":
            real_put(kinesis_, name, batch[: len(batch) // 2], **kwargs)
        elif where == "after the put":
            real_put(kinesis_, name, batch, **kwargs)
        raise Crash()

    monkeypatch.setattr(stream, "put_batch", crashing)
    with pytest.raises(Crash):
        first.step()
    monkeypatch.setattr(stream, "put_batch", real_put)
    assert Cursor(cursor).pending is not None  # what the new process finds
    again = Pump(kinesis, STREAM, log, lambda: 60, cursor, sleep=lambda s: None)
    while again.step() or again.cursor.position < 60:
        pass
    assert_exactly_the_log(kinesis, log)


class Unreachable:
    """A Kinesis client whose endpoint stops answering (after some records of a call went through)."""

    def __init__(self, real):
        self.real, self.down = real, False

    def put_records(self, **kwargs):
        if self.down:
            kwargs["Records"] = kwargs["Records"][:3]
            self.real.put_records(**kwargs)
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
        return self.real.put_records(**kwargs)

    def __getattr__(self, name):
        if self.down:
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
        return getattr(self.real, name)


def test_while_the_stream_is_unreachable_the_pump_waits_says_so_and_catches_up(tmp_path, kinesis):
    log = room_log(tmp_path, 40)
    client = Unreachable(kinesis)
    pump = Pump(client, STREAM, log, lambda: 40, tmp_path / "pumped.json", sleep=lambda s: None, clock=lambda: 1000.0)
    pump.step()
    client.down = True
    for _ in range(3):
        with pytest.raises(Exception, match="did not answer"):
            pump.step()
    client.down = False
    while pump.step() or pump.cursor.position < 40:
        pass
    assert_exactly_the_log(kinesis, log)
