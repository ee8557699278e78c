"""How hard the property tests try: a quick default for a developer's run, five times the examples in CI.

``HYPOTHESIS_PROFILE=ci`` (set by ``.ci/run``) loads the ``ci`` profile; anything else loads ``dev``. A
property that sets its own count says it with :func:`examples`, so that CI scales it too. Example
timings on a shared 2-core machine say nothing about correctness: no profile has a per-example deadline.
"""

import os

from hypothesis import settings

PROFILE_ENV = "HYPOTHESIS_PROFILE"
SCALE = {"dev": 1, "ci": 5}
DEFAULT_EXAMPLES = 50  # a property that names no count of its own; hypothesis's own default is 100

for _name, _scale in SCALE.items():
    settings.register_profile(_name, deadline=None, max_examples=DEFAULT_EXAMPLES * _scale)


def profile() -> str:
    """The profile this run loads: ``ci`` when asked for, else ``dev``."""
    return "ci" if os.environ.get(PROFILE_ENV, "").strip().lower() == "ci" else "dev"


def examples(count: int) -> int:
    """``count`` examples in a developer's run, five times as many in CI."""
    return count * SCALE[profile()]
