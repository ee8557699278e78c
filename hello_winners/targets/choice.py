"""Which target the kit works on: the one given, else $HELLO_WINNERS_TARGET, else lesson 0's choice, else embedded.

Apart from the clients' half of hello_winners.targets, which loads boto3, so that the command line knows
the target before it loads the rest of the kit (hello_winners.cli starts the embedded AWS meanwhile).
"""

from __future__ import annotations

import os

from hello_winners.targets import state
from hello_winners.errors import ConfigError

TARGET_ENV = "HELLO_WINNERS_TARGET"
EMBEDDED = "embedded"
AWS = "aws"
TARGETS = (EMBEDDED, AWS)
_TARGET_FILE = "target"  # in the state folder


def chosen(target: str | None = None) -> str:
    """The target: ``target``, else $HELLO_WINNERS_TARGET, else the recorded choice, else embedded."""
    return known(target or os.environ.get(TARGET_ENV) or _recorded() or EMBEDDED)


def known(target: str) -> str:
    """``target`` as the kit names it; ConfigError for a target the kit does not know."""
    name = str(target).strip().lower()
    if name not in TARGETS:
        raise ConfigError(
            f"unknown target {name!r}: use 'embedded' (the local moto server, the default) or 'aws' "
            f"(your AWS account through boto3's usual credentials), with --target or {TARGET_ENV}"
        )
    return name


def record(target: str) -> str:
    """Record the target for every later kernel and command of this checkout (lesson 0's one setting)."""
    name = known(target)
    path = state.own_state_dir() / _TARGET_FILE
    path.write_text(name + "\n")
    return name


def _recorded() -> str | None:
    """The recorded target; one that another user wrote (it could send the kit to real AWS) is refused."""
    path = state.state_dir() / _TARGET_FILE
    try:
        with open(path, encoding="utf-8") as file:
            state.check_own(path, "the recorded target", os.fstat(file.fileno()))
            return file.read().strip() or None
    except OSError:
        return None
