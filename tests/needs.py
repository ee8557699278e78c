"""What a test needs from the machine: a skip that says why on a developer's machine, a failure in CI.

A skip exits 0, so a CI run without Chromium (say) would go green having tested no page. With ``CI``
set to true (``.ci/run`` sets it), a missing need fails the run with one sentence naming it instead.
"""

import os

import pytest

CI_ENV = "CI"


def in_ci() -> bool:
    """Whether this run is CI's: $CI says true (or 1, or yes), as CI services and ``.ci/run`` set it."""
    return os.environ.get(CI_ENV, "").strip().lower() in ("true", "1", "yes")


def need(present: object, what: str, remedy: str) -> None:
    """Go on when ``present`` is truthy; else skip the test, or fail it in CI, saying ``what`` is missing."""
    if present:
        return
    sentence = f"{what} is missing: {remedy}"
    if in_ci():
        pytest.fail(f"CI must run this test, but {sentence}", pytrace=False)
    pytest.skip(sentence)
