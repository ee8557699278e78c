"""A small file system of a test's own: a full disk or a read-only folder, as a user's machine may have them.

A tmpfs mount needs root (CI runs as root); elsewhere the test is skipped, or fails in CI (needs.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from needs import need


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "1m", read_only: bool = False):
    """A tmpfs of ``size`` mounted at ``path`` (made), read-only if asked; unmounted afterwards."""
    need(sys.platform.startswith("linux") and os.geteuid() == 0 and shutil.which("mount"),
         "mounting a tmpfs (root on Linux)", "run this test as root on Linux, as CI does")
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)], check=True)
    try:
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)
        yield path
    finally:
        subprocess.run(["umount", "--lazy", str(path)], check=False)


def fill(folder: Path) -> None:
    """Write into ``folder`` until its file system has no space left."""
    with open(folder / "filler", "wb") as filler:
        with contextlib.suppress(OSError):
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
