"""The embedded AWS's participants: whoever works on a stage is that stage's participant of a room.

In a real room the instructor makes one IAM user per participant (``hello-winners room-account``,
hello_winners.deploy.room): tagged with their stage, in the group that holds the room policy. The
embedded AWS is a room too: the first time a stage is used, the kit applies the same plan through IAM's
API with its own identity (the room's policies and group if they are missing, then the user). The
user's keys are derived from the state folder (credentials.participant_keys) and registered by the
server as the user is made, so notebooks and commands sign as that participant, who holds the room
policy and nothing else: a stage's ``-play`` stage is its participant's (``alice-play`` is alice's).
"""

from __future__ import annotations

import threading

import filelock

from hello_winners import naming
from hello_winners.embedded import credentials
from hello_winners.targets.state import state_dir

# (endpoint, server pid, stage) -> the participant known to exist for the stage on a running server.
_ENSURED: dict[tuple, str] = {}
_LOCK = threading.Lock()


def guess(stage: str | None = None) -> str:
    """Whose stage ``stage`` is (None: the default stage), without asking the server: the stage itself, or
    its owner's for a play stage (``alice-play`` is alice's). :func:`ensure` has the last word."""
    from hello_winners.deploy import room

    return room.participant_of(naming.stage_name(stage), ())


def ensure(endpoint: str, region: str, stage: str | None = None, server_pid: int | None = None) -> str:
    """The participant of ``stage`` on the embedded AWS at ``endpoint`` (whose policies name ``region``),
    made when there is none: whoever already holds the stage's namespace (``alice`` for ``alice-2``), else
    the stage's own (``bob`` for ``bob-play``). Their keys are credentials.participant_keys(name).

    Once per process, server and stage (``server_pid`` tells a restarted server from the one before), under
    a lock in the state folder, so two kernels starting at once make the user once.
    """
    stage = naming.stage_name(stage)
    known = (endpoint, server_pid, stage)
    with _LOCK:
        if known not in _ENSURED:
            _ENSURED[known] = _made(endpoint, region, stage)
        return _ENSURED[known]


def _made(endpoint, region, stage):
    from hello_winners.deploy import executor, room
    from hello_winners.targets import sessions

    session = sessions.session(region_name=region, **vars(credentials.keys(credentials.KIT)))
    iam = session.client("iam", endpoint_url=endpoint)
    account = session.client("sts", endpoint_url=endpoint).get_caller_identity()["Account"]
    folder = state_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(folder / "room.lock"):
        who = room.participant_of(stage, room.existing_participants(iam))
        calls = room.plan(iam, room.Room(region, account, session.get_partition_for_region(region), (who,)))
        executor.execute({"iam": iam}, calls, report=lambda line: None)
    return who
