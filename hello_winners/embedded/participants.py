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

# (endpoint, server pid, participant) of the participants known to exist on a running server.
_ENSURED: set[tuple] = set()
_LOCK = threading.Lock()


def participant(stage: str | None = None) -> str:
    """Whose stage ``stage`` is (None: the default stage): the stage itself, or its owner's for a play stage."""
    from hello_winners.deploy import room

    return room.participant_of(naming.stage_name(stage), ())


def keys(stage: str | None = None) -> credentials.Keys:
    """The keys of the participant of ``stage``: known without asking the server."""
    return credentials.participant_keys(participant(stage))


def ensure(endpoint: str, region: str, stage: str | None = None, server_pid: int | None = None) -> credentials.Keys:
    """Make sure the participant of ``stage`` exists on the embedded AWS at ``endpoint`` (whose policies name
    ``region``); their keys.

    Once per process and server (``server_pid`` tells a restarted server from the one before), under a
    lock in the state folder, so two kernels starting at once make the user once.
    """
    who = participant(stage)
    known = (endpoint, server_pid, who)
    with _LOCK:
        if known not in _ENSURED:
            _made(endpoint, region, who)
            _ENSURED.add(known)
    return credentials.participant_keys(who)


def _made(endpoint, region, who):
    import boto3

    from hello_winners.deploy import executor, room

    session = boto3.Session(region_name=region, **vars(credentials.keys(credentials.KIT)))
    iam = session.client("iam", endpoint_url=endpoint)
    account = session.client("sts", endpoint_url=endpoint).get_caller_identity()["Account"]
    folder = state_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(folder / "room.lock"):
        calls = room.plan(iam, room.Room(region, account, session.get_partition_for_region(region), (who,)))
        executor.execute({"iam": iam}, calls, report=lambda line: None)
