"""The state folder and the source checkout: where the kit keeps what outlives one process.

The embedded AWS records its processes in the state folder, and ``choose_target`` the target, so that
every kernel and command of a checkout shares them. Instructor tooling needs the checkout itself (its
``notebooks/``); an installed package has none.
"""

from __future__ import annotations

import os
from pathlib import Path

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
