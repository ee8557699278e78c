"""Spare workers: handed out oldest first, only to a function that runs in one as in a fresh worker."""

import json
import subprocess
import sys

import pytest

from hello_winners.embedded.runtime import functions
from hello_winners.embedded.runtime.spares import Spares

BASE = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": "UTC"}


def echoing_spare():
    """A stand-in spare: it answers the assignment it is given, then exits."""
    return subprocess.Popen([sys.executable, "-c", "import sys; print(sys.stdin.readline(), end='')"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)


@pytest.fixture
def said():
    return []


@pytest.fixture
def started():
    return []


@pytest.fixture
def pool(said, started):
    made = Spares(lambda: started.append(echoing_spare()) or started[-1], BASE, count=2, log=said.append)
    yield made
    made.close()


def assignment_of(process):
    return json.loads(process.stdout.readline())


def test_top_up_starts_spares_until_there_are_enough(pool):
    assert pool.top_up() == 2 and pool.ready == 2
    assert pool.top_up() == 0 and pool.ready == 2


def test_a_spare_is_told_which_function_it_now_is_oldest_first(pool, started, tmp_path):
    pool.top_up()
    first, second = started
    given = pool.assign(tmp_path, {**BASE, "TABLE": "t1"}, tmp_path / "f.log")
    assert given is first and pool.ready == 1
    assert assignment_of(given) == {"task_root": str(tmp_path), "environment": {**BASE, "TABLE": "t1"},
                                    "log": str(tmp_path / "f.log")}


def test_a_spare_that_ended_is_passed_over(pool, started, tmp_path):
    pool.top_up()
    first, second = started
    first.kill()
    first.wait()
    assert pool.assign(tmp_path, BASE, tmp_path / "f.log") is second
    assert pool.assign(tmp_path, BASE, tmp_path / "f.log") is None
    assert first.stdin.closed  # not left to the garbage collector, whose flush would fail on the broken pipe


@pytest.mark.parametrize("variable", ["PYTHONPATH", "PYTHONHASHSEED", "LC_ALL", "LANG"])
def test_a_function_whose_python_would_start_differently_gets_none(pool, tmp_path, variable):
    pool.top_up()
    assert pool.assign(tmp_path, {**BASE, variable: "x"}, tmp_path / "f.log") is None
    assert pool.ready == 2


@pytest.mark.parametrize("bundled", ["boto3", "botocore", "dateutil", "six.py"])
def test_a_function_that_bundles_a_runtime_package_gets_none(pool, tmp_path, bundled):
    pool.top_up()
    (tmp_path / bundled).mkdir()
    assert pool.assign(tmp_path, BASE, tmp_path / "f.log") is None
    assert pool.ready == 2


def test_spares_that_cannot_start_stop_and_say_so_once(said, started, tmp_path):
    def failing_spare():
        started.append(subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"], stdin=subprocess.PIPE))
        return started[-1]

    failing = Spares(failing_spare, BASE, count=2, log=said.append)
    failing.top_up()
    for process in started:
        process.wait()
    assert failing.top_up() == 0 and failing.top_up() == 0
    assert failing.assign(tmp_path, BASE, tmp_path / "f.log") is None
    assert said == ["spare workers stopped: one exited with code 3 before it was needed; "
                    "new functions start their own workers"]


def test_closing_ends_the_spares_and_makes_no_more(pool, started):
    pool.top_up()
    pool.close()
    assert all(process.poll() is not None for process in started)
    assert pool.top_up() == 0 and pool.ready == 0


def test_a_real_spare_ends_when_the_runtime_that_started_it_is_gone(monkeypatch):
    started = []
    monkeypatch.setattr(functions, "_spare", lambda spare=functions._spare: started.append(spare()) or started[-1])
    functions.spare_workers(count=1).top_up()
    (spare,) = started
    spare.stdin.close()  # as when the runtime dies: its end of the pipe closes
    assert spare.wait(timeout=60) == 0
