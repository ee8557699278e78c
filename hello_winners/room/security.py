"""What every request to the room must pass: sessions, CSRF tokens, origins, and the headers of every answer.

- A participant's session is a random token in an HttpOnly, SameSite=Strict cookie; the room keeps
  only its SHA-256. The instructor's token works the same way (from the address ``room start``
  prints, once, then from its own cookie) or as an ``Authorization: Bearer`` header for scripts.
- Every form carries a CSRF token: an HMAC of the room's secret and whoever the form is for (the
  session, the instructor, or a join cookie before there is a session), checked in constant time on
  every POST. A request that says it comes from another site (``Origin``, ``Sec-Fetch-Site``) is
  refused as well.
- Every answer carries a strict Content-Security-Policy (scripts and styles from the room's own
  files only, no inline code, no framing, forms post to the room only) and sends no referrer to other sites.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping

from hello_winners.room.refusal import Refused

SESSION_COOKIE = "hw_session"
INSTRUCTOR_COOKIE = "hw_instructor"
JOIN_COOKIE = "hw_join"
SESSION_MAX_AGE_S = 24 * 3600
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # no-referrer would make Chromium send "Origin: null" with every form
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), geolocation=(), microphone=()",
}
STALE_FORM = "The form was stale or came from another site: reload the page and send it again."


def new_token() -> str:
    """A fresh session or join token (192 random bits)."""
    return secrets.token_urlsafe(24)


def csrf_token(secret: str, purpose: str, holder: str) -> str:
    """The CSRF token of forms shown to ``holder`` (a session's hash, the instructor's, a join cookie)."""
    message = f"{purpose}|{holder}".encode()
    return hmac.new(bytes.fromhex(secret), message, hashlib.sha256).hexdigest()[:40]


def check_csrf(secret: str, purpose: str, holder: str | None, sent: object) -> None:
    """Refuse (403) a form whose CSRF token is missing or not the one made for ``holder``."""
    if not holder or not isinstance(sent, str) or not hmac.compare_digest(
            sent.encode(), csrf_token(secret, purpose, holder).encode()):
        raise Refused(403, STALE_FORM)


def check_origin(headers: Mapping[str, str], own_origin: str) -> None:
    """Refuse (403) a write that the browser says comes from another site."""
    origin = headers.get("origin")
    if (origin is not None and origin != own_origin) or headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        raise Refused(403, STALE_FORM)


def same_token(given: str | None, expected: str) -> bool:
    """Whether ``given`` is ``expected``, compared in constant time."""
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def cookie(name: str, value: str, max_age: int = SESSION_MAX_AGE_S) -> str:
    """A Set-Cookie value that scripts cannot read and other sites' requests do not carry."""
    return f"{name}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Strict"
