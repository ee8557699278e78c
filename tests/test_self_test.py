"""The embedded AWS refuses to serve unless it refuses a forged signature and a request outside a policy.

Each case builds the server's application as its worker process does (moto_server.app), in a process of
its own, with moto's patched method put back as it was (as if moto had renamed it, so that the kit's check
landed on a name nothing calls), or with the policy decision switched off.
"""

import os
import subprocess
import sys

import pytest

BUILD = "from hello_winners.embedded import moto_server\n{sabotage}\nmoto_server.app('us-east-1')\nprint('serving')\n"
RENAMED = """
from moto.core.authorization import ActionAuthenticatorMixin
from hello_winners.embedded import strict
original, install = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action, strict.install

def install_then_lose_it():
    install()
    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = original

strict.install = install_then_lose_it
"""
NO_POLICIES = """
from hello_winners.embedded import authorization
authorization.decide = lambda principal, check: authorization.Decision(True, "allowed")
"""


def build(tmp_path, sabotage=""):
    environment = {**os.environ, "HELLO_WINNERS_STATE_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-c", BUILD.format(sabotage=sabotage)], capture_output=True, text=True,
                          timeout=120, env=environment)


def test_a_server_whose_checks_hold_serves(tmp_path):
    built = build(tmp_path)
    assert built.returncode == 0, built.stderr
    assert built.stdout.strip() == "serving"


@pytest.mark.parametrize("sabotage, said", [
    (RENAMED, "a request signed with a wrong secret was answered 200, not refused"),
    (NO_POLICIES, "a participant's request outside the room policy was answered 400, not refused"),
])
def test_a_server_that_would_accept_what_it_must_refuse_does_not_serve(tmp_path, sabotage, said):
    built = build(tmp_path, sabotage)
    assert built.returncode == 1 and "serving" not in built.stdout
    (line,) = [line for line in built.stderr.splitlines() if line.startswith("hello-winners:")]
    assert line.startswith("hello-winners: the embedded AWS will not serve: " + said)
    assert "pip install -e ." in line
