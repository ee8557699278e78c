"""How the kit reaches AWS: the one place that chooses between the embedded server and real AWS.

Both targets go through the same boto3 clients and the same code; the only difference is the endpoint.
On the embedded target the clients point at the local moto server with dummy credentials and a fixed
region. On real AWS the endpoint, credentials and region are left to boto3's usual chain: the kit
never reads, prints or stores credentials.
"""

import contextlib
import dataclasses
import functools
import os

import boto3
import botocore.config
import botocore.exceptions

from . import embedded, naming
from .errors import AwsUnreachableError, ConfigError

TARGET_ENV = "HELLO_WINNERS_TARGET"
ENDPOINT_ENV = "HELLO_WINNERS_ENDPOINT"
EMBEDDED = "embedded"
AWS = "aws"
TARGETS = (EMBEDDED, AWS)
EMBEDDED_REGION = "us-east-1"
# moto accepts any credentials; these are placeholders, not secrets.
EMBEDDED_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_CLIENT_CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": 5})


@dataclasses.dataclass(frozen=True)
class Settings:
    """Where the kit works: the target and the stage whose resources it manages."""

    target: str
    stage: str

    @property
    def prefix(self):
        return naming.prefix(self.stage)

    @property
    def tags(self):
        return naming.tags(self.stage)


def settings(target=None, stage=None):
    """Resolve the target and the stage.

    The target is the argument, else $HELLO_WINNERS_TARGET, else the choice recorded by
    :func:`choose_target` (lesson 0), else embedded.
    """
    chosen = _known_target(target or os.environ.get(TARGET_ENV) or _recorded_target() or EMBEDDED)
    return Settings(target=chosen, stage=naming.stage(stage))


def choose_target(target):
    """Record the target for every later kernel and command of this checkout (lesson 0's one setting)."""
    chosen = _known_target(target)
    path = _target_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(chosen + "\n")
    return chosen


def _known_target(target):
    chosen = str(target).strip().lower()
    if chosen not in TARGETS:
        raise ConfigError(
            f"unknown target {chosen!r}: use 'embedded' (the local moto server, the default) or 'aws' "
            f"(your AWS account through boto3's usual credentials), with --target or {TARGET_ENV}"
        )
    return chosen


def _target_file():
    return embedded.state_dir() / "target"


def _recorded_target():
    try:
        return _target_file().read_text().strip() or None
    except OSError:
        return None


def endpoint(target=None):
    """The endpoint URL every client of ``target`` uses: the embedded server's, or None for AWS.

    On the embedded target this starts the server when none is running, unless $HELLO_WINNERS_ENDPOINT
    names a moto server run elsewhere, which must answer.
    """
    if settings(target).target == AWS:
        return None
    configured = os.environ.get(ENDPOINT_ENV)
    if configured:
        if not embedded.answers(configured):
            raise AwsUnreachableError(
                f"nothing answers as a moto server at {configured}: start it, or unset {ENDPOINT_ENV} "
                "to let the kit run its own embedded server"
            )
        return configured
    return embedded.ensure_running().endpoint


def session(target=None):
    """A boto3 session for ``target``: dummy credentials on the embedded server, the usual chain on AWS.

    One per target and process: a session caches the service models, which take a second to load.
    """
    return _session(settings(target).target)


@functools.lru_cache(maxsize=None)
def _session(target):
    if target == AWS:
        return boto3.Session()
    return boto3.Session(region_name=EMBEDDED_REGION, **EMBEDDED_CREDENTIALS)


def client(service, target=None):
    """A boto3 client of ``service`` on ``target``."""
    return session(target).client(service, endpoint_url=endpoint(target), config=_CLIENT_CONFIG)


def function_environment(target=None):
    """Environment variables that point boto3 inside a locally run Lambda function at the target.

    Empty on real AWS, where the Lambda service provides them.
    """
    if settings(target).target == AWS:
        return {}
    return {
        "AWS_ENDPOINT_URL": endpoint(target),
        "AWS_REGION": EMBEDDED_REGION,
        "AWS_DEFAULT_REGION": EMBEDDED_REGION,
        "AWS_ACCESS_KEY_ID": EMBEDDED_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": EMBEDDED_CREDENTIALS["aws_secret_access_key"],
    }


@contextlib.contextmanager
def friendly_errors():
    """Turn botocore's connection and configuration failures into one clear sentence of the kit's."""
    try:
        yield
    except botocore.exceptions.EndpointConnectionError as error:
        raise AwsUnreachableError(
            f"cannot reach {error.kwargs.get('endpoint_url', 'the AWS endpoint')}: on the embedded target run "
            "`hello-winners server status`; on real AWS check your network"
        ) from None
    except botocore.exceptions.NoCredentialsError:
        raise ConfigError(
            "no AWS credentials were found: configure them (aws configure, AWS_PROFILE or SSO), "
            f"or use the embedded target by unsetting {TARGET_ENV}"
        ) from None
    except botocore.exceptions.NoRegionError:
        raise ConfigError(
            "no AWS region is set: set AWS_REGION (or a region in your AWS profile) to use the real-AWS target"
        ) from None
