"""What a stage should have in AWS, as plain data: the planner compares it with what exists.

Names derive from the stage prefix (hello_winners.naming), ARNs from the partition, account and region,
so the whole desired state is known before any call is made. Policies name exact ARNs (see policies.py), and
every role carries the account's permissions boundary.
"""

from __future__ import annotations

import dataclasses

from hello_winners.deploy import policies
from hello_winners.deploy.names import Names
from hello_winners.errors import ConfigError
from hello_winners.deploy.lambda_platform import RUNTIME

CONSUMER_HANDLER = "hello_winners.view.consumer.handler"
API_HANDLER = "hello_winners.view.api.handler"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _limit(default: int, label: str, low: int, high: int | None, unit: str) -> dataclasses.Field:
    """A field with the range AWS accepts for it, so a bad value is refused before any call is made."""
    return dataclasses.field(default=default, metadata={"label": label, "range": (low, high), "unit": unit})


@dataclasses.dataclass(frozen=True)
class Options:
    """What a participant may tune; the defaults suit a workshop room.

    Each value must lie in the range AWS documents for it (CreateEventSourceMapping for a Kinesis
    source, Lambda's memory and timeout quotas, CreateStream): anything else raises ConfigError on
    construction, so the command and the lessons refuse it before any AWS call and nothing is half
    deployed.
    """

    # Kinesis's default quota is 500 shards an account in the largest regions (fewer elsewhere); a stage's
    # one consumer reads far fewer, and each shard is a poller and a Python worker on the embedded AWS.
    shards: int = _limit(2, "shard count", 1, 500, "shards")
    batch_size: int = _limit(100, "batch size", 1, 10_000, "records")
    batching_window_s: int = _limit(1, "batching window", 0, 300, "seconds")
    max_retry_attempts: int = _limit(10, "maximum retry attempts", -1, 10_000, "retries")
    consumer_memory_mb: int = _limit(256, "consumer memory", 128, 10_240, "MB")
    consumer_timeout_s: int = _limit(60, "consumer timeout", 1, 900, "seconds")
    api_memory_mb: int = _limit(256, "API memory", 128, 10_240, "MB")
    api_timeout_s: int = _limit(10, "API timeout", 1, 900, "seconds")

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            _check(field, getattr(self, field.name))

    @classmethod
    def label(cls, option: str) -> str:
        """How messages name an option ("batch size" for batch_size)."""
        return cls.__dataclass_fields__[option].metadata["label"]


def _check(field: dataclasses.Field, value: object) -> None:
    label, (low, high), unit = field.metadata["label"], field.metadata["range"], field.metadata["unit"]
    allowed = f"{low:,} or more" if high is None else f"{low:,} to {high:,}"
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(f"the {label} ({field.name}) must be a whole number of {unit}, not {value!r}: "
                          f"AWS allows {allowed}")
    if value < low or (high is not None and value > high):
        raise ConfigError(f"the {label} ({field.name}) {value:,} is outside what AWS allows, {allowed} {unit}: "
                          f"choose a {label} in that range")


@dataclasses.dataclass(frozen=True)
class Role:
    name: str
    policy_name: str
    policy: dict
    tags: dict
    boundary: str  # the ARN of the permissions boundary it carries (deploy.policies.boundary)
    trust: dict = dataclasses.field(default_factory=lambda: LAMBDA_TRUST)


@dataclasses.dataclass(frozen=True)
class Function:
    name: str
    handler: str
    role_arn: str
    memory_mb: int
    timeout_s: int
    environment: dict
    tags: dict
    runtime: str = RUNTIME


@dataclasses.dataclass(frozen=True)
class Mapping:
    function_name: str
    stream_arn: str
    batch_size: int
    batching_window_s: int
    max_retry_attempts: int
    on_failure: str  # the ARN of the queue Lambda records a batch in when it gives up on it


@dataclasses.dataclass(frozen=True)
class Queue:
    """Where Lambda records each batch of the stream it gave up on (the mapping's on-failure destination)."""

    name: str
    tags: dict


@dataclasses.dataclass(frozen=True)
class HttpApi:
    name: str
    function_arn: str
    tags: dict


@dataclasses.dataclass(frozen=True)
class Stage:
    """The desired state of one stage."""

    names: Names
    tags: dict
    options: Options
    roles: tuple
    functions: tuple
    mapping: Mapping
    api: HttpApi
    queue: Queue


def desired(names: Names, tags: dict, options: Options = Options()) -> Stage:
    environment = dict(names.tables)
    roles = (
        Role(names.role("consumer"), "consumer-access", policies.consumer(names), tags, names.boundary_arn),
        Role(names.role("api"), "api-access", policies.api(names), tags, names.boundary_arn),
    )
    functions = (
        Function(names.function("consumer"), CONSUMER_HANDLER, names.role_arn("consumer"),
                 options.consumer_memory_mb, options.consumer_timeout_s, environment, tags),
        Function(names.function("api"), API_HANDLER, names.role_arn("api"),
                 options.api_memory_mb, options.api_timeout_s, environment, tags),
    )
    mapping = Mapping(names.function("consumer"), names.stream_arn, options.batch_size,
                      options.batching_window_s, options.max_retry_attempts, names.queue_arn)
    return Stage(names, tags, options, roles, functions, mapping, HttpApi(names.api, names.function_arn("api"), tags),
                 Queue(names.queue, tags))
