"""CI's own logic: a run that lacks an end of the supported range fails in CI and says so, else skips it.

``.ci/run`` finds the interpreters with ``pyenv_python`` from ``.ci/interpreters.sh``; these tests run that
very function in bash, against pyenv folders made here, with and without ``CI=true``.
"""

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "interpreters.sh"


def pyenv_python(version, home, ci):
    """Run ``pyenv_python version`` as .ci/run does, with ``home``/.pyenv as pyenv's root and no pyenv on PATH."""
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(["bash", "-c", f'. "{SCRIPT}" && pyenv_python {version}'], env=env,
                          capture_output=True, text=True, timeout=30)


def install(home, version):
    python = home / ".pyenv" / "versions" / version / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    return python


def test_the_newest_interpreter_of_the_minor_version_is_found(tmp_path):
    install(tmp_path, "3.10.2")
    newest = install(tmp_path, "3.10.13")
    install(tmp_path, "3.11.7")
    found = pyenv_python("3.10", tmp_path, ci="true")
    assert (found.returncode, found.stdout.strip(), found.stderr) == (0, str(newest), "")


@pytest.mark.parametrize("ci", ["true", None])
def test_a_missing_interpreter_is_one_sentence_that_fails_ci_or_skips_elsewhere(tmp_path, ci):
    install(tmp_path, "3.11.7")
    found = pyenv_python("3.13", tmp_path, ci=ci)
    assert found.returncode == 1 and found.stdout == ""
    assert found.stderr.count("\n") == 1 and "pyenv install 3.13" in found.stderr
    assert found.stderr.startswith("FAILED: CI must test Python 3.13" if ci else "SKIPPED the run on Python 3.13")


def test_ci_run_stops_when_an_end_of_the_range_is_missing_in_ci():
    """The script acts on the status: a missing interpreter in CI ends it non-zero, else it goes on."""
    text = (SCRIPT.parent / "run").read_text()
    for name, version in (("oldest", "3.10"), ("newest", "3.13")):
        block = text[text.index(f'if {name}="$(pyenv_python {version})"; then'):]
        block = block[:block.index("\nfi\n")]
        assert 'elif [ "$CI" = "true" ]; then\n    exit 1' in block
    assert 'export CI="${CI:-true}"' in text
    assert os.access(SCRIPT.parent / "run", os.X_OK)
