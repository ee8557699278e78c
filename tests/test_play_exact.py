"""play puts the day exactly once: what the stream holds decides, one play at a time, and a DIFFER fails."""

import threading

import boto3
import pytest
from moto import mock_aws

from hello_winners.game import day, stream
from hello_winners.workshop import play


@pytest.fixture
def kinesis():
    with mock_aws():
        client = boto3.client("kinesis", region_name="us-east-1")
        client.create_stream(StreamName="hw-x-retail-stream", ShardCount=2)
        yield client


def on_stream(kinesis):
    return [data for _, _, data in stream.read_records(kinesis, "hw-x-retail-stream")]


def test_an_interrupted_put_is_completed_exactly_once_by_the_next_run(kinesis):
    events = day.workshop_day()
    stream.put_events(kinesis, "hw-x-retail-stream", events[:1000])  # the first run was interrupted here
    left = day.missing(kinesis, "hw-x-retail-stream", events)
    assert left == events[1000:]
    stream.put_events(kinesis, "hw-x-retail-stream", left)
    assert day.missing(kinesis, "hw-x-retail-stream", events) == []
    assert len(on_stream(kinesis)) == len(events)


def test_a_participants_own_events_and_repeated_events_are_counted_event_by_event(kinesis):
    events = day.workshop_day()[:5]
    stream.put_events(kinesis, "hw-x-retail-stream", [events[0], events[0]])
    assert day.missing(kinesis, "hw-x-retail-stream", events + [events[0]]) == events[1:]


def test_four_plays_at_once_put_the_day_once(kinesis, tmp_path, monkeypatch):
    monkeypatch.setenv("HELLO_WINNERS_STATE_DIR", str(tmp_path))
    events = day.workshop_day()[:300]
    settings = play.targets.Settings("embedded", "x")
    start = threading.Barrier(4)

    def one_play():
        start.wait()
        with play.filelock.FileLock(play._lock_path(settings)):
            stream.put_events(kinesis, "hw-x-retail-stream", day.missing(kinesis, "hw-x-retail-stream", events))

    plays = [threading.Thread(target=one_play) for _ in range(4)]
    for thread in plays:
        thread.start()
    for thread in plays:
        thread.join()
    assert len(on_stream(kinesis)) == len(events)


def test_rankings_that_differ_from_the_recorded_winners_fail_the_run():
    boards = {"merchant": [{"userId": "nobody", "score": 1}], "photographer": []}
    verdict, matched = play._against_recorded(boards, day.workshop_day_path())
    assert not matched and "DIFFER" in verdict
    assert play._against_recorded(day.recorded_winners(day.workshop_day_path()), day.workshop_day_path())[1]
