"""The main job end to end on the embedded AWS, and the real-AWS path of the same code without network."""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from flood import flood

from hello_winners import analysis, deploy, targets
from hello_winners.embedded import runtime
from hello_winners.game import day, reference, stream
from hello_winners.view import tables
from hello_winners.workshop import play
from hello_winners.deploy import teardown

DAY = Path(__file__).resolve().parent.parent / "data" / "workshop-day.jsonl"
EXPECTED = json.loads(DAY.with_name("workshop-day.winners.json").read_text())


def ranking(board):
    return [(entry["userId"], entry["score"]) for entry in board]


PLAYS_AT_ONCE = 4


def hello_winners(*args, **popen):
    return subprocess.Popen([sys.executable, "-m", "hello_winners", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=os.environ, **popen)


@pytest.fixture(scope="module")
def played(embedded_server):
    """A deployed stage on which four `hello-winners play` commands ran at once: (settings, their results)."""
    settings = targets.settings(stage="playtest")
    deploy.deploy(settings.target, settings.stage, report=lambda line: None)
    try:
        plays = [hello_winners("play", "--stage", settings.stage) for _ in range(PLAYS_AT_ONCE)]
        results = [(play_.wait(timeout=600), *play_.communicate()) for play_ in plays]
        yield settings, results
    finally:
        teardown.teardown(deploy.clients(stage=settings.stage), settings.prefix, settings.stage, report=lambda line: None)


def test_four_plays_at_once_put_the_day_once_and_each_prints_its_winners(played):
    settings, results = played
    for status, out, err in results:
        assert status == 0, err
        for role in ("merchant", "photographer"):
            winner = EXPECTED[role][0]
            assert f" *  1. {winner['name']:<20} {winner['score']:>4}  {winner['userId']}" in out
    assert sum("putting 2134 events of workshop-day.jsonl" in out for _, out, _ in results) == 1
    assert sum("already holds workshop-day.jsonl" in out for _, out, _ in results) == PLAYS_AT_ONCE - 1
    clients = deploy.clients(stage=settings.stage)
    assert len(list(stream.read_records(clients["kinesis"], deploy.stage_names(settings, clients).stream))) == 2134
    scores = analysis.read_scores(clients["dynamodb"], tables.table_names(settings.prefix)[tables.SCORES])
    for role in ("merchant", "photographer"):
        stored = scores[scores["role"] == role].sort_values(["score", "userId"], ascending=[False, True])
        assert list(zip(stored["userId"], stored["score"])) == ranking(EXPECTED[role])


def test_a_second_play_counts_nothing_twice(played):
    settings, _ = played
    said = []
    again = play.play(stage=settings.stage, report=said.append, progress=False)
    assert any("already holds workshop-day.jsonl: not putting it again" in line for line in said)
    assert "the rankings match the expected winners in workshop-day.winners.json" in said
    for role in ("merchant", "photographer"):
        assert ranking(again[role]) == ranking(EXPECTED[role])


def test_a_play_whose_rankings_differ_from_the_recorded_winners_exits_non_zero(played, tmp_path):
    settings, _ = played
    log = tmp_path / "workshop-day.jsonl"
    shutil.copyfile(DAY, log)
    wrong = {role: list(reversed(EXPECTED[role])) for role in EXPECTED}
    day.winners_path(log).write_text(json.dumps(wrong))
    differing = hello_winners("play", "--stage", settings.stage, "--log", str(log))
    status, out, err = differing.wait(timeout=600), *differing.communicate()
    assert status == 1, (out, err)
    assert "the rankings DIFFER from the expected winners in workshop-day.winners.json" in err
    assert "already holds workshop-day.jsonl" in out  # the same events: nothing was put again


def test_a_thousand_requests_at_once_to_the_deployed_winner_api_each_get_an_http_answer(played):
    settings, _ = played
    clients = deploy.clients(stage=settings.stage)
    url = deploy.outputs(settings, clients, deploy.stage_names(settings, clients)).api_url
    answers = flood(url, 1000, "/scores?role=merchant&limit=10")
    assert None not in answers and sum(answers.values()) == 1000, answers
    assert set(answers) <= {200, 429, 503} and answers[200] >= 1, answers


@pytest.mark.usefixtures("embedded_server")
def test_play_finds_the_winner_api_at_its_new_address_when_the_runtime_restarts(monkeypatch):
    settings = targets.settings(stage="restarted")
    target = targets.get()
    consumed = target.wait_until_consumed

    def consumed_then_restarted(*args, **kwargs):
        consumed(*args, **kwargs)
        before = runtime.status()["apis"]
        runtime.stop()  # as a crash would: the next call starts a new runtime
        runtime.sync()
        assert runtime.status()["apis"] == before  # at the same address: a URL read before still works
        runtime.stop()
        (url,) = [api["url"] for api in before.values() if api["function"].startswith(settings.prefix)]
        with socket.socket() as squatter:  # unless its port was taken meanwhile: then the API moves
            squatter.bind(("127.0.0.1", int(url.rpartition(":")[2])))
            runtime.sync()
        assert url not in [api["url"] for api in runtime.status()["apis"].values()]

    monkeypatch.setattr(target, "wait_until_consumed", consumed_then_restarted)
    try:
        said = []
        boards = play.play(stage=settings.stage, report=said.append, progress=False)
        assert ranking(boards["merchant"]) == ranking(EXPECTED["merchant"])  # the API answered at its new address
        clients = deploy.clients(stage=settings.stage)
        now = deploy.outputs(settings, clients, deploy.stage_names(settings, clients))
        assert f"leaderboard page: {now.api_url}/" in said
    finally:
        teardown.teardown(deploy.clients(stage=settings.stage), settings.prefix, settings.stage, report=lambda line: None)


def test_the_recorded_winners_are_the_reference_winners_of_the_day():
    from hello_winners.game import eventlog

    assert reference.winners(eventlog.read_log(DAY)) == EXPECTED


def test_the_real_aws_target_deploys_and_tears_down_with_valid_calls(mocked_aws):
    """moto's in-process mock answers the calls boto3 makes to AWS's own endpoints: every parameter
    name and value is checked by botocore against the service models, without a network."""
    outputs = deploy.deploy(stage="realaws", report=lambda line: None)
    assert outputs.target == "aws"
    assert outputs.api_url == f"https://{outputs.api_id}.execute-api.us-east-1.amazonaws.com"
    assert deploy.clients()["kinesis"].meta.endpoint_url == "https://kinesis.us-east-1.amazonaws.com"
    printed = []
    deploy.deploy(stage="realaws", dry_run=True, report=printed.append)
    assert printed == ["nothing to change"]
    removed = teardown.teardown(deploy.clients(), outputs.stream.removesuffix("retail-stream"), "realaws",
                                report=lambda line: None)
    assert len(removed) == 11
    assert teardown.inventory(deploy.clients(), "hw-realaws-", "realaws") == []


def test_play_without_a_stage_plays_in_its_own_never_the_lessons(monkeypatch):
    monkeypatch.setenv("HELLO_WINNERS_STAGE", "alice")
    assert play.play_settings().stage == "alice-play"
    assert targets.settings().stage == "alice"                       # the lessons' stage is untouched
    assert play.play_settings(stage="alice").stage == "alice"         # a stage given is used as given


def test_play_judges_the_winners_on_a_consistent_read_of_the_scores_table_not_the_index(mocked_aws):
    """The API reads the ScoresByRole index, which AWS never reads consistently: right after the drain it may
    lag. play compares what a strongly consistent Scan of the base table holds."""
    import boto3

    dynamodb = boto3.client("dynamodb")
    names = tables.create(dynamodb, "hw-judge-")
    for role, entries in EXPECTED.items():
        for entry in entries:
            dynamodb.put_item(TableName=names[tables.SCORES], Item={
                "userId": {"S": entry["userId"]}, "role": {"S": role}, "score": {"N": str(entry["score"])},
                "name": {"S": entry["name"]}})
    scans = []
    dynamodb.meta.events.register("provide-client-params.dynamodb.Scan", lambda params, **_: scans.append(params))
    standings = play.standings(dynamodb, names[tables.SCORES])
    assert scans and all(params["ConsistentRead"] and "IndexName" not in params for params in scans)
    assert {role: ranking(entries) for role, entries in standings.items()} == {
        role: ranking(entries) for role, entries in EXPECTED.items()}
    assert play._against_recorded(standings, DAY) == (
        "the rankings match the expected winners in workshop-day.winners.json", True)
    lagging = {role: entries[1:] for role, entries in standings.items()}
    assert play._against_recorded(lagging, DAY)[1] is False
