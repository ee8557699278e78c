"""The oldest run of .ci/run installs exactly the lower bounds pyproject.toml claims for pandas, numpy and boto3."""

import re
from pathlib import Path

import pytest
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def test_the_oldest_constraints_pin_the_lower_bounds_of_pyproject():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+: the main run checks it
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lowest = dict(re.match(r"([\w-]+)(?:\[.*\])?>=([\w.]+)", d).groups() for d in dependencies)
    pins = dict(line.split("==") for line in (ROOT / ".ci" / "oldest-constraints.txt").read_text().split()
                if "==" in line)
    assert set(pins) == {"pandas", "numpy", "boto3", "botocore"}
    lowest["botocore"] = lowest["boto3"]  # boto3 and its botocore share their version numbers
    assert {name: Version(pin) for name, pin in pins.items()} == {name: Version(lowest[name]) for name in pins}
