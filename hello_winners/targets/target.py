"""The Target: how the kit's code reaches one AWS. This module's class is real AWS; :func:`get` picks one.

Both targets go through the same boto3 clients and the same code. What differs between them (the
endpoint and credentials, the API's URL, what follows a teardown, how to wait for the consumer) sits
behind one :class:`Target` object: this module's class is real AWS, where the endpoint, credentials
and region are left to boto3's usual chain (the kit never reads, prints or stores credentials). Other
targets are plugins, found by name in the ``hello_winners.targets`` entry-point group: the kit's own
embedded AWS (``hello_winners.embedded.target``) is one, declared in pyproject.toml. So this module
never imports the embedded package, which sits above it, and deploy, the game and the lessons never
need to know which target they run on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.metadata
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import boto3
import botocore.config
import botocore.exceptions

from hello_winners import events, naming
from hello_winners.errors import AwsUnreachableError, ConfigError, DeployError, EventError, StateFolderError
from hello_winners.game import stream
from hello_winners.targets import choice, pages, sessions, state
from hello_winners.targets.choice import AWS, TARGET_ENV
from hello_winners.view import tables

CLIENT_CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": 5})
# Where targets other than real AWS are found, by name: the kit declares its embedded AWS there.
PLUGINS = "hello_winners.targets"


@dataclasses.dataclass(frozen=True)
class Settings:
    """Where the kit works: the target and the stage whose resources it manages."""

    target: str
    stage: str

    @property
    def prefix(self) -> str:
        return naming.prefix(self.stage)

    @property
    def tags(self) -> dict[str, str]:
        return naming.tags(self.stage)


def settings(target: str | None = None, stage: str | None = None) -> Settings:
    """Resolve the target and the stage.

    The target is the argument, else $HELLO_WINNERS_TARGET, else the choice recorded by
    ``choose_target`` (lesson 0), else embedded (hello_winners.targets.choice). The stage is the argument, else
    $HELLO_WINNERS_STAGE, else whose it is: on real AWS the caller's IAM user or role session name
    (everyone on a JupyterHub or EC2 host shares one OS user name), on the embedded AWS the OS user name.
    """
    chosen = choice.chosen(target)
    if chosen == AWS:
        return Settings(chosen, naming.stage_name(stage, default=_caller_name, default_from="your AWS identity"))
    return Settings(chosen, naming.stage_name(stage))


class Target:
    """Real AWS: boto3's own endpoint, credentials and region. The embedded target overrides the rest."""

    name = AWS

    def session(self, stage: str | None = None) -> boto3.Session:
        """One boto3 session per target and process: it caches the service models, which take a second to load.

        ``stage`` is the stage the session acts on (None: the default stage). On real AWS the credentials
        are whoever boto3 finds; the embedded target signs as the room's participant whose stage it is.
        """
        return _aws_session()

    def endpoint(self) -> str | None:
        """The endpoint URL every client uses; None leaves it to boto3."""
        return None

    def client(self, service: str, stage: str | None = None) -> Any:
        """A boto3 client of ``service``, for ``stage`` (see :meth:`session`)."""
        return self._client(service, self.endpoint(), stage)

    def clients(self, services: Iterable[str], stage: str | None = None) -> dict:
        """One client per service, at one endpoint looked up once (the embedded target asks its server)."""
        endpoint = self.endpoint()
        return {service: self._client(service, endpoint, stage) for service in services}

    def instructor_clients(self, services: Iterable[str]) -> dict:
        """Clients for what an instructor does to the account (a room's users and policies): on real AWS with
        the caller's own credentials, which must be allowed that."""
        return self.clients(services)

    def _client(self, service, endpoint, stage=None):
        return self.session(stage).client(service, endpoint_url=endpoint, config=CLIENT_CONFIG)

    def where(self) -> str:
        """Where the kit works, for a one-line report."""
        return f"AWS {self.session().region_name or '(no region set)'}"

    def api_url(self, api_id: str, region: str) -> str:
        """The URL of a deployed HTTP API's default stage."""
        return f"https://{api_id}.execute-api.{region}.amazonaws.com"

    def before_deploy(self) -> None:
        """What may start while a deploy runs: nothing on AWS, where Lambda is always there."""

    def after_teardown(self) -> None:
        """What follows a teardown: nothing on AWS, where Lambda stops polling by itself."""

    def wait_until_consumed(self, clients: dict, stream_name: str, table_names: dict[str, str],
                            report: Callable[[str], None] = print, timeout_s: float = 600,
                            sleep: Callable[[float], None] = time.sleep) -> None:
        """Block until the consumer has counted every purchase on the stream (Lambda keeps its progress)."""
        expected = sum(1 for _, _, event in stream.read_stream(clients["kinesis"], stream_name) if _is_purchase(event))
        contributions = table_names[tables.CONTRIBUTIONS]
        deadline = time.monotonic() + timeout_s
        while True:
            counted = sum(_purchases_counted(clients["dynamodb"], contributions))
            if counted >= expected:
                report(f"the consumer counted all {expected} purchases")
                return
            if time.monotonic() > deadline:
                raise DeployError(f"the consumer counted {counted} of {expected} purchases after {timeout_s} s "
                                  f"({_mapping_state(clients, stream_name)}): look at its CloudWatch logs, "
                                  "then run play again")
            sleep(5)

    def closing_note(self) -> str | None:
        """A line for the end of ``play``, when the target has one."""
        return None

    def runtime_lines(self, stream_name: str) -> list[str]:
        """Lines about whatever runs the functions on ``stream_name``'s shards, for ``status``; Lambda itself
        reports nothing here."""
        return []


def get(target: str | None = None) -> Target:
    """The target object of ``target`` (resolved as :func:`settings` does): the one place that chooses."""
    return _target(choice.chosen(target))


def client(service: str, target: str | None = None, stage: str | None = None) -> Any:
    """A boto3 client of ``service`` on ``target``, for ``stage`` (None: the default stage)."""
    return get(target).client(service, stage)


def endpoint(target: str | None = None) -> str | None:
    """The endpoint URL of ``target``'s clients: the embedded server's (started when needed), or None for AWS."""
    return get(target).endpoint()


@contextlib.contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn botocore's connection and configuration failures, and a write the state folder refused, into one
    clear sentence of the kit's."""
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
    except OSError as error:  # a full disk or a read-only state folder is said; anything else is a bug to see
        said = state.explain(error)
        if said is None:
            raise
        raise StateFolderError(said) from None


@functools.lru_cache(maxsize=None)
def _target(name: str) -> Target:
    if name == AWS:
        return Target()
    found = importlib.metadata.entry_points(group=PLUGINS, name=name)
    if not found:
        raise ConfigError(f"the {name} target is not installed with the kit: install the kit again from its "
                          "checkout (pip install -e .), which declares it")
    return next(iter(found)).load()()


@functools.lru_cache(maxsize=None)
def _aws_session() -> boto3.Session:
    return sessions.session()


@functools.lru_cache(maxsize=None)
def _caller_name():
    """The caller's name on real AWS, asked once per process (STS answers with the same ARN every time)."""
    with friendly_errors():
        return naming.caller_name(_target(AWS).client("sts").get_caller_identity()["Arn"])



def _is_purchase(event: dict) -> bool:
    try:
        return events.kind(events.validate(event)) == "purchase"
    except EventError:
        return False


def _mapping_state(clients: dict, stream_name: str) -> str:
    """What Lambda says of the stream's event source mapping: why a consumer may be stuck."""
    summary = clients["kinesis"].describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    mappings = list(pages.items(clients["lambda"], "list_event_source_mappings", "EventSourceMappings",
                                EventSourceArn=summary["StreamARN"]))
    if not mappings:
        return "no event source mapping reads the stream"
    return "; ".join(f"its event source mapping is {m.get('State', 'in no state')}, last processing result: "
                     f"{m.get('LastProcessingResult', 'none yet')}" for m in mappings)


def _purchases_counted(dynamodb, table: str) -> Iterator[int]:
    """Each product's purchase count, read consistently: the wait compares it right after the consumer wrote."""
    pages = dynamodb.get_paginator("scan").paginate(TableName=table, ProjectionExpression="purchases",
                                                    ConsistentRead=True)
    for page in pages:
        for item in page["Items"]:
            yield int(item.get("purchases", {"N": "0"})["N"])
