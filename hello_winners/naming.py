"""Names and tags of everything the kit creates in AWS.

Every resource carries the stage prefix in its name and the kit's tags, so that teardown finds exactly
the kit's own things for one stage and nothing else in a shared account. A stage name is used exactly
as given or refused: rewriting or shortening one could turn two people's stages into the same one.
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Callable

from hello_winners.errors import ConfigError

STAGE_ENV = "HELLO_WINNERS_STAGE"
KIT_TAG = "hello-winners:kit"
STAGE_TAG = "hello-winners:stage"
KIT = "hello-winners"
FUNCTION_KINDS = ("consumer", "api")
# The lessons' sandboxes: each a set of the stage's own tables, in its namespace (the room policy reaches them).
SANDBOXES = ("mine", "naive", "once", "kit")
# Lowercase only: IAM role names ignore case, so 'Alice' and 'alice' would share roles.
_STAGE_SHAPE = re.compile(r"[a-z][a-z0-9-]*\Z")
_SANDBOX_SHAPE = re.compile(r"[a-z0-9]+\Z")


KIT_PREFIX = "hw-"


def prefix(stage_name: str) -> str:
    """Prefix of every resource name of a stage, e.g. 'hw-alice-'."""
    return f"{KIT_PREFIX}{stage_name}-"


def function(prefix: str, kind: str) -> str:
    """The name of a stage's Lambda function of ``kind`` (one of FUNCTION_KINDS)."""
    return f"{prefix}winner-{kind}"


def role(prefix: str, kind: str) -> str:
    """The name of the IAM role the function of ``kind`` runs as."""
    return f"{function(prefix, kind)}-role"


def sandbox_prefix(prefix: str, name: str) -> str:
    """Prefix of the tables of a lesson's sandbox ``name``, e.g. 'hw-alice-naive.' for 'hw-alice-naive.scores'.

    The dot, which no stage holds, keeps stage alice's sandbox 'naive' apart from the tables of a
    stage named 'alice-naive' ('hw-alice-naive-scores'): emptying a sandbox never touches another stage.
    """
    if not _SANDBOX_SHAPE.match(name):
        raise ConfigError(f"the sandbox name {name!r} cannot name tables: use lowercase letters and digits, such as 'mine'")
    return f"{prefix}{name}."


def _tightest() -> tuple[int, str]:
    """(characters left for the stage, the derived name that leaves the fewest), over the names whose
    AWS limit binds: IAM role and Lambda function names (64); streams, tables, APIs and log groups
    allow 128 and more."""
    derived = [(64 - len(make(prefix(""), kind)), f"{what} {make(prefix('<stage>'), kind)}")
               for what, make in (("IAM role", role), ("Lambda function", function)) for kind in FUNCTION_KINDS]
    return min(derived)


STAGE_MAX, LONGEST_NAME = _tightest()


def os_user() -> str:
    """The operating system's user name: the embedded target's default stage."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "workshop"


def caller_name(arn: str) -> str:
    """The person in a caller identity's ARN: an IAM user's name, an assumed role's session name.

    >>> caller_name("arn:aws:sts::123456789012:assumed-role/Participants/alice")
    'alice'
    """
    return arn.split(":", 5)[-1].rpartition("/")[2]


def stage_name(value: str | None = None, default: Callable[[], str] = os_user,
               default_from: str = "your user name") -> str:
    """The stage: ``value``, else $HELLO_WINNERS_STAGE, else ``default()``, used exactly as given.

    None means "not given" and takes the next source; an empty name is refused like any other name
    the kit cannot use (ConfigError), so ``--stage ""`` never silently means the default stage.
    """
    if value is not None:
        return _usable(value, "given")
    if os.environ.get(STAGE_ENV) is not None:
        return _usable(os.environ[STAGE_ENV], f"from {STAGE_ENV}")
    return _usable(default(), f"{default_from}, the default")


def tags(stage_name: str) -> dict[str, str]:
    """Tags put on every resource of a stage."""
    return {KIT_TAG: KIT, STAGE_TAG: stage_name}


def _usable(name, source):
    where = f"with --stage or {STAGE_ENV}"
    if not name:
        raise ConfigError(f"the stage is empty ({source}): name one such as 'alice' {where}, "
                          "or leave it out for the default")
    if not _STAGE_SHAPE.match(name):
        raise ConfigError(f"the stage {name!r} ({source}) cannot name AWS resources as it is: choose one of "
                          f"lowercase letters, digits and hyphens that starts with a letter, such as 'alice', {where}")
    if len(name) > STAGE_MAX:
        raise ConfigError(f"the stage {name!r} ({source}) has {len(name)} characters, but the kit's longest name, "
                          f"the {LONGEST_NAME}, leaves room for {STAGE_MAX}: choose a shorter stage {where}")
    return name
