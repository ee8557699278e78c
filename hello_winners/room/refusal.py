"""The room's one error type: a request refused, with its HTTP status and one sentence for the participant.

The pure modules decide (a name is taken, a photo is not an image, too many actions too fast) and raise
:class:`Refused`; the server turns it into a 4xx answer, an HTML page or JSON, and writes nothing.
"""

from __future__ import annotations

from hello_winners.errors import HelloWinnersError


class Refused(HelloWinnersError):
    """A request the room will not act on. ``status`` is the HTTP status, ``headers`` extra headers
    (``Retry-After`` for a 429); ``str(error)`` is the sentence shown to the participant."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})
