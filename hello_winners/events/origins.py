"""Who produced an event: the origin string that names them, and the original API's rules for reading it."""

from __future__ import annotations


from hello_winners.errors import EventError
from hello_winners.events.kinds import WIDGET


def origin(role: str, unique_id: str, name: str) -> str:
    """The origin string ``hello-retail/<role>/<uniqueId>/<name>`` that names who produced an event."""
    for part in (role, unique_id, name):
        if not isinstance(part, str) or not part or "/" in part:
            raise EventError(f"origin part {part!r} must be a non-empty string without '/'; "
                             "choose another role, id or name.")
    return f"{WIDGET}/{role}/{unique_id}/{name}"


def parse_origin(origin: object) -> tuple[str, str] | None:
    """(unique id, display name) of whoever an origin names, or None when it identifies nobody.

    The original API's rules: split on ``/``; with 3+ parts the id is part 3 and the name part 4
    (part 3 again when part 4 is missing or empty); with exactly 2 parts both are part 2. An empty
    id, fewer than 2 parts, or a value that is not a string identifies nobody.
    """
    if not isinstance(origin, str):
        return None
    parts = origin.split("/")
    n = len(parts)
    if n >= 3:
        uid = parts[2]
        if not uid:
            return None
        return uid, (parts[3] if n > 3 and parts[3] else uid)
    if n == 2 and parts[1]:
        return parts[1], parts[1]
    return None
