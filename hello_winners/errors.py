"""The kit's own exceptions: each carries one sentence that says what is wrong and what to do."""

from __future__ import annotations


class HelloWinnersError(Exception):
    """Base of every error the kit raises on purpose."""


class ConfigError(HelloWinnersError):
    """A setting (target, stage, port, endpoint) is unusable."""


class StateFolderError(HelloWinnersError):
    """The state folder may not be used (another user's) or written (a full disk, a read-only folder)."""


class EmbeddedServerError(HelloWinnersError):
    """The embedded moto server could not be started, found or stopped."""


class AwsUnreachableError(HelloWinnersError):
    """The AWS endpoint of the current target does not answer."""


class EventError(HelloWinnersError):
    """An event or record does not match its schema or cannot be decoded.

    ``schema`` names the schema that failed, ``field`` the offending field (dotted path), either may
    be None when the record never got that far (not base64, not JSON).
    """

    def __init__(self, message: str, schema: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.schema = schema
        self.field = field


class StreamWriteError(HelloWinnersError):
    """Some events could not be put on the stream after every retry."""

    def __init__(self, message: str, failed: int = 0) -> None:
        super().__init__(message)
        self.failed = failed


class DeployError(HelloWinnersError):
    """Deploying, running or tearing down the kit's resources failed."""


class NotDoneYet(HelloWinnersError):
    """A workshop exercise still holds its placeholder."""


class StreamReadError(HelloWinnersError):
    """The stream could not be read back (missing, not ACTIVE, or throttled after every retry)."""
