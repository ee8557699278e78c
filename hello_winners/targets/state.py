"""The state folder and the source checkout: where the kit keeps what outlives one process.

The embedded AWS records its processes in the state folder, and ``choose_target`` the target, so that
every kernel and command of a checkout shares them. Instructor tooling needs the checkout itself (its
``notebooks/``); an installed package has none.

The folder holds the embedded AWS's keys and the records of the processes the kit may signal, so the
kit uses it only when it is the user's own and no one else may write to it (:func:`own_state_dir`);
and a write that fails there for a reason the user must act on (a full disk, a read-only folder) is
told in one sentence (:func:`explain`), wherever it happened: in a command, the server or the runtime.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from hello_winners.errors import StateFolderError

STATE_DIR_ENV = "HELLO_WINNERS_STATE_DIR"


def checkout() -> Path | None:
    """The source checkout this package runs from (editable install), or None for an installed package."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "hello_winners").is_dir() else None


def state_dir() -> Path:
    """The state folder: $HELLO_WINNERS_STATE_DIR, else .hello-winners/ in the source checkout.

    Outside a source checkout (an installed package) it falls back to ~/.hello-winners.
    """
    configured = os.environ.get(STATE_DIR_ENV)
    if configured:
        return Path(configured)
    root = checkout()
    return root / ".hello-winners" if root else Path.home() / ".hello-winners"


def own_state_dir() -> Path:
    """The state folder, made when missing, for its user alone; StateFolderError when it is not the user's own.

    Another user's folder could hold keys and process records they planted, or read the ones made there.
    The user's own folder is closed to others if it was not (it was made with the umask's mode before).
    """
    folder = state_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    status = folder.stat()
    check_own(folder, "the kit's state folder", status)
    if os.name == "posix" and stat.S_IMODE(status.st_mode) & 0o077:
        folder.chmod(0o700)
    return folder


def check_own(path: Path, what: str, status: os.stat_result) -> None:
    """StateFolderError unless ``path`` (``what`` it is, ``status`` its os.stat) belongs to this user."""
    if hasattr(os, "geteuid") and status.st_uid != os.geteuid():  # POSIX; the embedded AWS needs it anyway
        raise StateFolderError(f"{what} {path} belongs to another user (uid {status.st_uid}), so the kit will not "
                               f"use it: point {STATE_DIR_ENV} at a folder of your own (or unset it)")


def explain(error: OSError, where: Path | None = None) -> str | None:
    """One sentence for a write (of ``where``, else the error's file) that failed for a reason the user must
    act on, or None for any other error."""
    folder = state_dir()
    where = where or error.filename or folder
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"the disk is full ({error.strerror}): the kit could not write {where}; free some space on the disk "
                f"that holds its state folder {folder} (or point {STATE_DIR_ENV} at another disk), then run the "
                "command again")
    if error.errno == errno.EROFS:
        return (f"the kit's state folder {folder} is on a read-only file system, so it could not write {where}: "
                f"point {STATE_DIR_ENV} at a folder you can write to, then run the command again")
    if error.errno in (errno.EACCES, errno.EPERM) and str(where).startswith(str(folder)):
        return (f"the kit may not write {where} in its state folder ({error.strerror}): make {folder} yours and "
                f"writable, or point {STATE_DIR_ENV} at a folder you can write to")
    return None
