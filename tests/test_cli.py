"""The command as a shell runs it: a reader that stops early (`hello-winners ... | head`) ends it quietly, and a
command that will start the embedded AWS starts it before it loads the rest of the kit."""

import os
import subprocess
import sys
import threading
import time

import pytest

from hello_winners import cli, target_choice


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
    (["play"], {target_choice.TARGET_ENV: "aws"}, None, False),
    (["play"], {}, "aws", False),
    (["play", "--target", "embedded"], {target_choice.TARGET_ENV: "aws"}, "aws", True),
    (["play", "--target", "mars"], {}, None, False),
    (["status"], {}, None, False),
    (["teardown"], {}, None, False),
])
def test_the_embedded_aws_starts_early_only_for_a_command_that_would_start_it(
        argv, environment, recorded, starts, tmp_path, monkeypatch):
    monkeypatch.setenv("HELLO_WINNERS_STATE_DIR", str(tmp_path))
    monkeypatch.delenv(target_choice.TARGET_ENV, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    if recorded:
        target_choice.record(recorded)
    started = threading.Event()
    starting = cli.start_early(cli._parser().parse_args(argv), start=started.set)
    if starting:
        starting.join(timeout=10)
    assert (starting is not None) is starts and started.is_set() is starts


def test_a_command_that_fails_at_once_still_finishes_the_start_it_began(tmp_path, monkeypatch):
    """Never a server half started by a process that has already ended: the command waits for it."""
    monkeypatch.setenv("HELLO_WINNERS_STATE_DIR", str(tmp_path))
    monkeypatch.delenv(target_choice.TARGET_ENV, raising=False)
    finished = []
    monkeypatch.setattr(cli, "_start_the_embedded_aws", lambda: (time.sleep(0.2), finished.append(True)))
    assert cli.main(["play", "--log", str(tmp_path / "missing.jsonl")]) == 1
    assert finished == [True]
