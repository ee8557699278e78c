"""The embedded AWS's keys: random per state folder, readable by their owner only, never printed unasked.

The embedded AWS refuses every request that is not signed with one of these keys, so that no other
local process and no web page can change what a participant deployed. Two identities hold keys:

- the **participants**: each stage's participant is an IAM user of the room (hello_winners.deploy.room),
  holding the room policy, whose keys are derived from this folder's participant secret
  (:func:`participant_keys`), so every process finds the same ones and no more secrets are stored:
  what notebooks, ``play``, ``status`` and ``teardown`` use, and what ``hello-winners server env`` hands
  to other tools;
- the **kit**, which stands in for the Lambda service: the local runtime reads what is deployed and
  assumes each function's execution role with it.

The keys outlive the server (a restarted server registers the same keys), so exported variables keep
working for as long as the state folder does.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import os
import secrets
import stat
import string
import tempfile
from pathlib import Path

from hello_winners.embedded import detached
from hello_winners.errors import EmbeddedServerError
from hello_winners.targets.state import check_own, own_state_dir, state_dir

PARTICIPANT = "participant"
KIT = "kit"
USER_NAMES = {PARTICIPANT: "hello-winners-participant", KIT: "hello-winners-kit"}
_KEY_ID_ALPHABET = string.ascii_uppercase + "234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


@dataclasses.dataclass(frozen=True)
class Keys:
    """One identity's access key, in the argument names boto3 takes."""

    aws_access_key_id: str
    aws_secret_access_key: str

    def __repr__(self) -> str:
        return f"Keys(aws_access_key_id={self.aws_access_key_id!r}, aws_secret_access_key='***')"


def path() -> Path:
    """Where this state folder keeps its keys."""
    return state_dir() / "credentials.json"


def keys(identity: str) -> Keys:
    """The keys of ``identity`` (PARTICIPANT or KIT), made on first use."""
    return Keys(**_all()[identity])


def participant_keys(name: str) -> Keys:
    """The keys of the room's participant ``name`` on the embedded AWS: derived from the participant secret,
    so only a process that can read this state folder's keys holds them, and the server knows them again."""
    secret = keys(PARTICIPANT).aws_secret_access_key.encode()

    def derived(purpose: str) -> bytes:
        return hmac.new(secret, f"hello-winners participant {purpose} {name}".encode(), hashlib.sha256).digest()

    key_id = "AKIA" + base64.b32encode(derived("key id")[:10]).decode()  # 16 characters of A-Z and 2-7, as AWS's
    return Keys(key_id, base64.b64encode(derived("secret")).decode()[:40])


def control_token() -> str:
    """What a caller of the local runtime's control API shows to make it act: derived from the kit's key,
    so only a process that can read this state folder's keys holds it."""
    secret = keys(KIT).aws_secret_access_key.encode()
    return hmac.new(secret, b"hello-winners runtime control", hashlib.sha256).hexdigest()


def _all() -> dict:
    target = path()
    own_state_dir()
    try:
        return _read(target)
    except FileNotFoundError:
        pass
    _none_running(target)
    made = {identity: dataclasses.asdict(_new_keys()) for identity in USER_NAMES}
    # A draft of its own (readable by the user alone) for each asker: threads of one process ask at once too.
    descriptor, draft = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    draft = Path(draft)
    with os.fdopen(descriptor, "w") as file:
        json.dump(made, file)
    try:
        os.link(draft, target)  # never replaces: when another process made them first, theirs count
    except FileExistsError:
        return _read(target)
    finally:
        draft.unlink()
    return made


def _read(target: Path) -> dict:
    with open(target, encoding="utf-8") as file:
        _check_private(target, os.fstat(file.fileno()))
        text = file.read()
    try:
        stored = json.loads(text)
        return {identity: dataclasses.asdict(Keys(**stored[identity])) for identity in USER_NAMES}
    except (ValueError, KeyError, TypeError):
        raise EmbeddedServerError(
            f"the embedded AWS's keys in {target} are damaged: stop the server "
            "(`hello-winners server stop`), delete that file, and start again (new keys are made)"
        ) from None


def _check_private(target: Path, status: os.stat_result) -> None:
    """Keys another user made, or that others may read, are no one's secret: refused, with what to do."""
    check_own(target, "the embedded AWS's keys file", status)
    if os.name == "posix" and stat.S_IMODE(status.st_mode) & 0o077:  # elsewhere modes say nothing of who reads
        raise EmbeddedServerError(
            f"the embedded AWS's keys in {target} may be read by other users (mode {stat.S_IMODE(status.st_mode):o}), "
            "so they are secret no more: stop the server (`hello-winners server stop`), delete that file, and start "
            "again (new keys are made, for you alone)")


def _none_running(target: Path) -> None:
    """New keys are made only while no process of the kit runs for this folder: a running server knows
    only the keys it started with, so keys made now would be refused (UnrecognizedClient) at every call."""
    if detached.running_here():
        raise EmbeddedServerError(
            f"the embedded AWS's keys in {target} are gone, but its server still runs with them (the state folder "
            "was deleted or emptied under it): run `hello-winners server stop` (what was deployed goes with it), "
            "then run the command again")


def _new_keys() -> Keys:
    key_id = "AKIA" + "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(16))
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
    return Keys(key_id, secret)
