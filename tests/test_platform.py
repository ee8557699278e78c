"""On Windows the embedded AWS cannot run (POSIX sessions and signals): one sentence says to use WSL."""

import sys

import pytest

import hello_winners
from hello_winners import cli
from hello_winners.targets import target


@pytest.fixture
def on_windows(monkeypatch):
    """The kit as a fresh Windows process would import it: no embedded package loaded yet.

    Should the check ever go, the endpoint points nowhere, so the test fails instead of starting a server.
    """
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("HELLO_WINNERS_ENDPOINT", "http://127.0.0.1:9")
    target._target.cache_clear()
    for name in [name for name in sys.modules if name.startswith("hello_winners.embedded")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delattr(hello_winners, "embedded", raising=False)


@pytest.mark.parametrize("command", [["server", "status"], ["status"], ["play"]])
def test_a_command_that_needs_the_embedded_aws_says_in_one_sentence_to_use_wsl(command, on_windows, capsys):
    status = cli.main(command)
    err = capsys.readouterr().err
    assert status == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert "WSL" in err and "--target aws" in err
