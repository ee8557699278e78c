"""The port each HTTP API was last served on, kept in the state folder.

A restarted runtime (after a crash, or one found unresponsive) serves each API on the port it had, when
that port is still free, so a URL handed out before keeps working: the one a lesson read into a
variable, the leaderboard page open on the projector. When the port was taken meanwhile the API moves,
and callers that ask the target for its URL again (``play`` does) find it.
"""

from __future__ import annotations

import json
from pathlib import Path


class Addresses:
    """API id -> the local port it was served on."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            found = json.loads(path.read_text())
        except (OSError, ValueError):
            found = {}
        valid = isinstance(found, dict)
        self._ports = {k: v for k, v in found.items() if isinstance(v, int) and 0 < v < 65536} if valid else {}

    def port(self, api_id: str) -> int:
        """The port ``api_id`` had, or 0 (any free port) for a new one."""
        return self._ports.get(api_id, 0)

    def remember(self, ports: dict[str, int]) -> None:
        """Keep exactly these APIs' ports: the ones served now."""
        if ports != self._ports:
            self._ports = dict(ports)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self._ports, sort_keys=True))
            tmp.replace(self.path)
