"""The participant's check the day before: each check finds what a room trips over and says it in one sentence."""

import os
import subprocess
import sys
import webbrowser

import pytest

from hello_winners.workshop import preflight


def test_python_outside_the_supported_range_is_named_with_the_range():
    assert preflight.python_version((3, 10, 0)) is None and preflight.python_version((3, 13, 2)) is None
    for old_or_new in ((3, 9, 18), (3, 14, 0)):
        said = preflight.python_version(old_or_new, "/usr/bin/python3")
        shown = ".".join(map(str, old_or_new))
        assert said.startswith(f"/usr/bin/python3 is Python {shown}, and the kit needs Python 3.10 to 3.13: "), said


def test_windows_is_sent_to_wsl():
    assert preflight.system("posix") is None
    assert "WSL" in preflight.system("nt")


def test_the_install_names_what_is_missing_or_out_of_its_range():
    assert preflight.install() is None  # this venv: the kit and every dependency in range
    import pandas

    said = preflight.install(["pandas>=99", "no-such-package-of-the-kit>=1", "numpy>=1"])
    assert f"pandas {pandas.__version__} where it needs >=99" in said and "no-such-package-of-the-kit missing" in said
    assert "numpy" not in said and said.endswith(".venv/bin/pip install -e . (README's quick start)"), said


def test_a_kernel_that_runs_another_python_is_named_with_how_to_remove_it():
    assert preflight.kernel() is None  # the kernel JupyterLab finds here runs this Python
    assert preflight.kernel([sys.executable, "-m", "ipykernel_launcher"]) is None
    assert preflight.kernel(["python", "-m", "ipykernel_launcher"]) is None  # Jupyter runs its own Python then
    said = preflight.kernel(["/opt/other/bin/python3", "-m", "ipykernel_launcher"])
    assert said.startswith("Jupyter's python3 kernel runs /opt/other/bin/python3, not this venv's Python"), said
    assert "jupyter kernelspec remove python3" in said


def test_no_browser_for_jupyterlab_is_said():
    def none():
        raise webbrowser.Error("could not locate runnable browser")

    assert preflight.browser(lambda: object()) is None
    assert preflight.browser(none).startswith("no web browser was found to open JupyterLab in")


def test_a_check_that_needs_a_failed_one_is_skipped_and_the_problems_are_counted():
    said = []
    found = preflight.run([("Python", lambda: None), ("install", lambda: "the kit is not installed"),
                           ("kernel", lambda: pytest.fail("run without the install")), ("browser", lambda: "no browser")],
                          report=said.append)
    assert found == 2
    assert said == ["ok    Python", "FAIL  install: the kit is not installed", "skip  kernel: needs the install fixed first",
                    "FAIL  browser: no browser",
                    "2 problems: fix them before the workshop (docs/instructors.md has a troubleshooting table)"]


@pytest.mark.embedded
def test_the_target_check_reaches_the_embedded_aws_as_the_participant(embedded_server):
    assert preflight.target() is None


@pytest.mark.embedded
def test_an_embedded_aws_that_does_not_answer_is_said(embedded_server, monkeypatch):
    monkeypatch.setenv("HELLO_WINNERS_ENDPOINT", "http://127.0.0.1:9")
    said = preflight.target()
    assert said and said.startswith("nothing answers as a moto server at http://127.0.0.1:9: "), said


@pytest.mark.embedded
def test_preflight_is_one_command_that_ends_ready_for_the_workshop(embedded_server):
    environment = {**os.environ, "BROWSER": sys.executable}  # a command that exists is what webbrowser looks for
    ran = subprocess.run([sys.executable, "-m", "hello_winners", "preflight"], capture_output=True, text=True,
                         timeout=120, env=environment, check=False)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    lines = ran.stdout.splitlines()
    assert lines == [f"ok    {name}" for name, _ in preflight.CHECKS] + ["ready for the workshop"]
