"""How the kit reaches AWS: the one place that chooses between the embedded AWS and real AWS.

- ``choice``: which target, from the argument, $HELLO_WINNERS_TARGET or lesson 0's recorded choice;
- ``state``: the state folder, where the choice and the embedded AWS's processes are recorded;
- ``target``: the :class:`Target` object every client comes from (real AWS's; the embedded AWS is a
  plugin of it), the stage's settings, and boto3's failures as one sentence;
- ``pages``: every item of an AWS list call, across its pages.

``targets.get()``, ``targets.settings()`` and the rest of ``target`` are reached from here, and load
boto3 (a quarter of a second) on first use only: the command line and the embedded AWS's early start
import this package for the choice and the state folder, and must not wait for boto3 to do so.
"""

from __future__ import annotations

from typing import Any

from hello_winners.targets.choice import AWS, EMBEDDED, TARGET_ENV, chosen
from hello_winners.targets.choice import record as choose_target

# The names of hello_winners.targets.target that this package answers for.
_TARGET_NAMES = ("CLIENT_CONFIG", "Settings", "Target", "client", "endpoint", "friendly_errors", "get", "settings")

__all__ = ["AWS", "EMBEDDED", "TARGET_ENV", "choose_target", "chosen", *_TARGET_NAMES]


def __getattr__(name: str) -> Any:
    if name in _TARGET_NAMES:
        from hello_winners.targets import target

        return getattr(target, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_TARGET_NAMES))
