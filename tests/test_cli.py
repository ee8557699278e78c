"""The command as a shell runs it: a reader that stops early (`hello-winners ... | head`) ends it quietly, and a
command that will start the embedded AWS starts it before it loads the rest of the kit."""

import os
import subprocess
import sys
import threading
import time

import pytest

from hello_winners import cli
from hello_winners.targets import choice


@pytest.mark.parametrize("command", [["server", "status"], ["--help"]])
def test_a_reader_that_closes_the_pipe_early_ends_the_command_without_a_traceback(command, tmp_path):
    environment = {**os.environ, "HELLO_WINNERS_STATE_DIR": str(tmp_path)}
    child = subprocess.Popen([sys.executable, "-m", "hello_winners", *command], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=environment)
    child.stdout.close()  # the reader is gone before the command writes a byte, as `| head -0` would be
    err = child.stderr.read().decode()
    child.wait(timeout=60)
    assert err == ""  # no BrokenPipeError traceback, no "Exception ignored" line


@pytest.mark.parametrize("argv, environment, recorded, starts", [
    (["play"], {}, None, True),
    (["deploy", "--stage", "x"], {}, None, True),
    (["play", "--target", "aws"], {}, None, False),
    (["--target", "aws", "play"], {}, None, False),
    (["play"], {choice.TARGET_ENV: "aws"}, None, False),
    (["play"], {}, "aws", False),
    (["play", "--target", "embedded"], {choice.TARGET_ENV: "aws"}, "aws", True),
    (["play", "--target", "mars"], {}, None, False),
    (["status"], {}, None, False),
    (["teardown"], {}, None, False),
])
def test_the_embedded_aws_starts_early_only_for_a_command_that_would_start_it(
        argv, environment, recorded, starts, tmp_path, monkeypatch):
    monkeypatch.setenv("HELLO_WINNERS_STATE_DIR", str(tmp_path))
    monkeypatch.delenv(choice.TARGET_ENV, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    if recorded:
        choice.record(recorded)
    started = threading.Event()
    starting = cli.start_early(cli._parser().parse_args(argv), start=lambda spawned: (started.set(), spawned()))
    if starting:
        starting.join(timeout=10)
    assert (starting is not None) is starts and started.is_set() is starts


def test_the_command_goes_on_once_the_servers_process_is_spawned_not_once_it_answers(tmp_path, monkeypatch):
    """Its imports then overlap the server's boot, instead of slowing the thread that spawns it."""
    monkeypatch.setenv("HELLO_WINNERS_STATE_DIR", str(tmp_path))
    monkeypatch.delenv(choice.TARGET_ENV, raising=False)
    monkeypatch.setattr(cli, "SPAWN_WAIT_S", 60)
    said, answering = [], threading.Event()

    def start(spawned):
        time.sleep(0.05)  # finding the state folder's records, choosing a port: the command waits for it
        said.append("spawned")
        spawned()
        answering.wait(10)
        said.append("answering")

    starting = cli.start_early(cli._parser().parse_args(["play"]), start=start)
    assert said == ["spawned"]
    answering.set()
    starting.join(10)
    assert said == ["spawned", "answering"]


def test_a_start_that_needs_no_spawn_lets_the_command_go_on_when_it_ends(tmp_path, monkeypatch):
    """A server already running, or one run elsewhere: nothing is spawned, and nothing is waited for."""
    monkeypatch.setenv("HELLO_WINNERS_STATE_DIR", str(tmp_path))
    monkeypatch.delenv(choice.TARGET_ENV, raising=False)
    monkeypatch.setattr(cli, "SPAWN_WAIT_S", 60)
    returned = threading.Thread(target=cli.start_early, args=(cli._parser().parse_args(["play"]), lambda spawned: None))
    returned.start()
    returned.join(10)
    assert not returned.is_alive()


def test_a_start_that_spawns_nothing_for_long_does_not_hold_the_command(tmp_path, monkeypatch):
    """E.g. another process holds the state folder's lock while it starts the server: the command goes on."""
    monkeypatch.setenv("HELLO_WINNERS_STATE_DIR", str(tmp_path))
    monkeypatch.delenv(choice.TARGET_ENV, raising=False)
    monkeypatch.setattr(cli, "SPAWN_WAIT_S", 0.05)
    held = threading.Event()
    starting = cli.start_early(cli._parser().parse_args(["play"]), start=lambda spawned: held.wait(10))
    assert starting.is_alive()
    held.set()
    starting.join(10)


def test_a_command_that_fails_at_once_still_finishes_the_start_it_began(tmp_path, monkeypatch):
    """Never a server half started by a process that has already ended: the command waits for it."""
    monkeypatch.setenv("HELLO_WINNERS_STATE_DIR", str(tmp_path))
    monkeypatch.delenv(choice.TARGET_ENV, raising=False)
    finished = []
    monkeypatch.setattr(cli, "_start_the_embedded_aws", lambda spawned: (spawned(), time.sleep(0.2),
                                                                          finished.append(True)))
    assert cli.main(["play", "--log", str(tmp_path / "missing.jsonl")]) == 1
    assert finished == [True]
