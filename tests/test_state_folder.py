"""The state folder: the kit uses only the user's own, and says in one sentence what stops it from writing there.

Tested as an attacker and a full disk would have it: a folder and keys planted by another user (this
suite runs as root in CI, so it can hand files to another uid), a folder deleted under a running
server, a read-only file system, a disk with no space left.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from hello_winners import embedded
from hello_winners.embedded import credentials, detached, runtime
from hello_winners.errors import EmbeddedServerError, StateFolderError
from hello_winners.targets import choice, state
from mounts import fill, tmpfs

ANOTHER_USER = 4242  # any uid but this process's


def cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "hello_winners", *args], capture_output=True, text=True,
                          timeout=timeout, env=os.environ)


def one_sentence(result):
    """The command failed with one line of the kit's, and no traceback."""
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("hello-winners: ")
    return line


@pytest.fixture
def planted(tmp_path, monkeypatch):
    """A state folder another user made, holding keys and a target they wrote, readable by all."""
    folder = tmp_path / "theirs"
    folder.mkdir(mode=0o755)
    keys = {identity: {"aws_access_key_id": "AKIAPLANTEDPLANTED00", "aws_secret_access_key": "planted" * 5}
            for identity in credentials.USER_NAMES}
    (folder / "credentials.json").write_text(json.dumps(keys))
    (folder / "target").write_text("aws\n")
    for path in (folder, folder / "credentials.json", folder / "target"):
        os.chown(path, ANOTHER_USER, ANOTHER_USER)
        path.chmod(0o755 if path.is_dir() else 0o644)
    monkeypatch.setenv(state.STATE_DIR_ENV, str(folder))
    return folder


def test_a_state_folder_another_user_owns_is_refused_with_its_planted_keys_and_target(planted, monkeypatch):
    with pytest.raises(StateFolderError, match="belongs to another user .uid 4242.*a folder of your own"):
        credentials.keys(credentials.PARTICIPANT)
    with pytest.raises(StateFolderError, match="belongs to another user"):
        embedded.find()  # nor are its process records read, or processes started for it
    monkeypatch.delenv(choice.TARGET_ENV, raising=False)
    with pytest.raises(StateFolderError, match="the recorded target .* belongs to another user"):
        choice.chosen()  # their "aws" would send the kit to the user's own AWS account


def test_keys_others_may_read_or_another_user_wrote_are_refused_in_the_users_own_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(state.STATE_DIR_ENV, str(tmp_path / "mine"))
    credentials.keys(credentials.PARTICIPANT)  # made, for this user alone
    keys = credentials.path()
    assert oct(keys.stat().st_mode & 0o777) == oct(0o600) and oct(keys.parent.stat().st_mode & 0o777) == oct(0o700)
    keys.chmod(0o644)
    with pytest.raises(EmbeddedServerError, match="may be read by other users .mode 644.*delete that file"):
        credentials.keys(credentials.PARTICIPANT)
    keys.chmod(0o600)
    os.chown(keys, ANOTHER_USER, ANOTHER_USER)
    with pytest.raises(StateFolderError, match="keys file .* belongs to another user"):
        credentials.keys(credentials.PARTICIPANT)


def test_the_users_own_folder_open_to_others_is_closed_to_them(tmp_path, monkeypatch):
    folder = tmp_path / "open"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    monkeypatch.setenv(state.STATE_DIR_ENV, str(folder))
    assert state.own_state_dir() == folder and oct(folder.stat().st_mode & 0o777) == oct(0o700)


@pytest.mark.embedded
def test_a_state_folder_deleted_under_a_running_server_is_said_with_what_to_do(private_state):
    assert cli("server", "start").returncode == 0  # a server whose parent is gone, as a user's is
    shutil.rmtree(private_state)
    line = one_sentence(cli("status", "--stage", "gone"))
    assert "keys" in line and "`hello-winners server stop`" in line
    assert not credentials.path().exists()  # no keys were made that the running server would refuse
    assert cli("server", "stop").returncode == 0
    assert detached.running_here() == set()
    assert cli("status", "--stage", "gone").returncode == 0  # a fresh server, with fresh keys


@pytest.mark.embedded
def test_a_read_only_state_folder_is_one_sentence(tmp_path, monkeypatch):
    with tmpfs(tmp_path / "ro", read_only=True) as folder:
        monkeypatch.setenv(state.STATE_DIR_ENV, str(folder))
        line = one_sentence(cli("status", "--stage", "ro"))
    assert "read-only file system" in line and state.STATE_DIR_ENV in line


@pytest.mark.embedded
def test_a_full_disk_is_one_sentence_that_names_the_disk(tmp_path, monkeypatch):
    with tmpfs(tmp_path / "full", size="4m") as folder:
        monkeypatch.setenv(state.STATE_DIR_ENV, str(folder))
        monkeypatch.delenv(embedded.PORT_ENV, raising=False)
        try:
            embedded.ensure_running()
            runtime.ensure_running()
            fill(folder)
            line = one_sentence(cli("deploy", "--stage", "full"))
        finally:
            runtime.stop()
            embedded.stop()
    assert "the disk is full" in line and str(folder) in line
