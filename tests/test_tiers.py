"""The pure tier's promise, tried by every path that can start the embedded AWS: each one is refused.

``pytest -m "not embedded"`` must need nothing but Python; tests/conftest.py guards the one place
where the moto server and the local runtime are started. Should a path go around the guard, the test
of that path starts a real server instead of failing fast with the tier's sentence.
"""

import pytest

from needs import CI_ENV, need

from hello_winners import cli, deploy, embedded, targets
from hello_winners.embedded import runtime, server

REFUSED = "starts the embedded AWS: add its module to EMBEDDED_MODULES"


@pytest.mark.parametrize("path", [
    embedded.ensure_running,
    embedded.start,
    embedded.endpoint,
    embedded.participant_environment,
    server.ensure_running,
    server.start,
    lambda: targets.get(targets.EMBEDDED).endpoint(),
    lambda: targets.get(targets.EMBEDDED).clients(["kinesis"]),
    lambda: deploy.clients(targets.EMBEDDED),
    lambda: cli.main(["server", "start"]),
    lambda: cli.main(["status", "--target", "embedded"]),
], ids=["embedded.ensure_running", "embedded.start", "embedded.endpoint", "embedded.participant_environment",
        "server.ensure_running", "server.start", "target.endpoint", "target.clients", "deploy.clients",
        "cli server start", "cli status"])
def test_a_pure_test_cannot_start_the_embedded_server_by_any_path(path, private_state):
    with pytest.raises(AssertionError, match=REFUSED):
        path()
    assert embedded.find() is None


def test_a_pure_test_cannot_start_the_local_runtime(private_state, monkeypatch):
    monkeypatch.setattr(server, "endpoint", lambda spawned=None: "http://127.0.0.1:9")  # past the server's own start
    with pytest.raises(AssertionError, match=REFUSED):
        runtime.ensure_running()
    with pytest.raises(AssertionError, match=REFUSED):
        runtime.sync()


def test_a_missing_need_is_a_skip_that_says_why_on_a_developers_machine(monkeypatch):
    monkeypatch.delenv(CI_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="^Chromium is missing: apt-get install chromium$"):
        need(None, "Chromium", "apt-get install chromium")
    need("/usr/bin/chromium", "Chromium", "apt-get install chromium")  # present: nothing happens


@pytest.mark.parametrize("value", ["true", "1", "TRUE", "yes"])
def test_a_missing_need_fails_a_ci_run_in_one_sentence(monkeypatch, value):
    monkeypatch.setenv(CI_ENV, value)
    with pytest.raises(pytest.fail.Exception) as failed:
        need(None, "Chromium", "apt-get install chromium")
    assert str(failed.value) == "CI must run this test, but Chromium is missing: apt-get install chromium"
    assert "\n" not in str(failed.value)
