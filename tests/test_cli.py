"""The command as a shell runs it: a reader that stops early (`hello-winners ... | head`) ends it quietly."""

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("command", [["server", "status"], ["--help"]])
def test_a_reader_that_closes_the_pipe_early_ends_the_command_without_a_traceback(command, tmp_path):
    environment = {**os.environ, "HELLO_WINNERS_STATE_DIR": str(tmp_path)}
    child = subprocess.Popen([sys.executable, "-m", "hello_winners", *command], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=environment)
    child.stdout.close()  # the reader is gone before the command writes a byte, as `| head -0` would be
    err = child.stderr.read().decode()
    child.wait(timeout=60)
    assert err == ""  # no BrokenPipeError traceback, no "Exception ignored" line
