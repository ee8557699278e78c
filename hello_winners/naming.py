"""Names and tags of everything the kit creates in AWS.

Every resource carries the stage prefix in its name and the kit's tags, so that teardown finds exactly
the kit's own things for one stage and nothing else in a shared account.
"""

from __future__ import annotations

import getpass
import os
import re

from hello_winners.errors import ConfigError

STAGE_ENV = "HELLO_WINNERS_STAGE"
KIT_TAG = "hello-winners:kit"
STAGE_TAG = "hello-winners:stage"
KIT = "hello-winners"
_STAGE_MAX = 16


def stage_name(value: str | None = None) -> str:
    """The stage: the argument, else $HELLO_WINNERS_STAGE, else the user name, cleaned for AWS names."""
    raw = value or os.environ.get(STAGE_ENV) or _user()
    cleaned = re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-")[:_STAGE_MAX].strip("-")
    if not cleaned or not cleaned[0].isalpha():
        raise ConfigError(
            f"the stage {raw!r} cannot name AWS resources: set {STAGE_ENV} (or --stage) to a short "
            "name that starts with a letter, such as 'alice'"
        )
    return cleaned


def prefix(stage_name: str) -> str:
    """Prefix of every resource name of a stage, e.g. 'hw-alice-'."""
    return f"hw-{stage_name}-"


def tags(stage_name: str) -> dict[str, str]:
    """Tags put on every resource of a stage."""
    return {KIT_TAG: KIT, STAGE_TAG: stage_name}


def _user():
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "workshop"
