"""`play` reads and checks its event log before it changes anything: a bad log leaves the stage as it was."""

import json
import os

import pytest

from hello_winners import cli, deploy
from hello_winners.workshop import play


@pytest.fixture
def stage_changes(monkeypatch):
    """What play would have done to the stage: every teardown or deploy it started, in order."""
    done = []
    monkeypatch.setattr(play, "teardown", lambda *args, **kwargs: done.append("teardown"))
    monkeypatch.setattr(deploy, "deploy", lambda *args, **kwargs: done.append("deploy"))
    return done


def _damaged(tmp_path):
    log = tmp_path / "damaged.jsonl"
    log.write_text('{"schema": "com.nordstrom/retail-stream/1-0-0"}\n{"truncated": \n')
    return log


@pytest.mark.parametrize("log, said", [
    (None, "line 2: record is not valid JSON"),
    ("missing.jsonl", "does not exist"),
    (".", "is a directory"),
    (os.devnull, "is not a regular file"),
])
def test_play_fresh_with_a_bad_log_says_why_in_one_line_and_tears_nothing_down(log, said, tmp_path, stage_changes,
                                                                                 capsys):
    path = _damaged(tmp_path) if log is None else tmp_path / log if log.endswith(".jsonl") else log
    status = cli.main(["play", "--fresh", "--log", str(path)])
    err = capsys.readouterr().err
    assert status == 1 and stage_changes == []
    assert said in err and err.count("\n") == 1


def test_play_refuses_a_log_with_an_event_no_stream_can_carry_before_any_aws_call(tmp_path, stage_changes, capsys):
    event = {"schema": "com.nordstrom/retail-stream-ingress/1-0-0", "origin": "hello-retail/x/ana/Ana",
             "timeOrigin": "2026-01-01T00:00:00.000Z",
             "data": {"schema": "com.nordstrom/product/create/1-0-0", "id": "p1", "name": "x" * (2 * 1024 * 1024)}}
    log = tmp_path / "huge.jsonl"
    log.write_text(json.dumps({**event, "data": {**event["data"], "name": "fine"}}) + "\n" + json.dumps(event) + "\n")
    status = cli.main(["play", "--log", str(log)])
    err = capsys.readouterr().err
    assert status == 1 and stage_changes == []
    assert "event 2 of huge.jsonl" in err and "over the 1 MiB Kinesis record limit" in err and err.count("\n") == 1
