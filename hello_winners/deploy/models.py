"""What a stage should have in AWS, as plain data: the planner compares it with what exists.

Names derive from the stage prefix (hello_winners.naming), ARNs from the partition, account and region,
so the whole desired state is known before any call is made. Policies name exact ARNs (see policies.py).
"""

from __future__ import annotations

import dataclasses

from hello_winners import naming
from hello_winners.view import tables
from hello_winners.deploy import policies
from hello_winners.lambda_platform import RUNTIME

CONSUMER_HANDLER = "hello_winners.view.consumer.handler"
API_HANDLER = "hello_winners.view.api.handler"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@dataclasses.dataclass(frozen=True)
class Options:
    """What a participant may tune; the defaults suit a workshop room."""

    shards: int = 2
    batch_size: int = 100
    batching_window_s: int = 1
    max_retry_attempts: int = 10
    consumer_memory_mb: int = 256
    consumer_timeout_s: int = 60
    api_memory_mb: int = 256
    api_timeout_s: int = 10


@dataclasses.dataclass(frozen=True)
class Names:
    """Every name and ARN of one stage. ``partition`` is the region's (aws, aws-cn, aws-us-gov)."""

    prefix: str
    region: str
    account: str
    partition: str = "aws"

    def arn(self, service: str, resource: str, region: bool = True) -> str:
        return f"arn:{self.partition}:{service}:{self.region if region else ''}:{self.account}:{resource}"

    @property
    def stream(self) -> str:
        return self.prefix + "retail-stream"

    @property
    def stream_arn(self) -> str:
        return self.arn("kinesis", f"stream/{self.stream}")

    @property
    def tables(self) -> dict[str, str]:
        return tables.table_names(self.prefix)

    def table_arn(self, variable: str) -> str:
        return self.arn("dynamodb", f"table/{self.tables[variable]}")

    def function(self, kind: str) -> str:
        return naming.function(self.prefix, kind)

    def function_arn(self, kind: str) -> str:
        return self.arn("lambda", f"function:{self.function(kind)}")

    def role(self, kind: str) -> str:
        return naming.role(self.prefix, kind)

    def role_arn(self, kind: str) -> str:
        return self.arn("iam", f"role/{self.role(kind)}", region=False)

    def log_group(self, kind: str) -> str:
        """The log group Lambda writes the function's logs to."""
        return f"/aws/lambda/{self.function(kind)}"

    def log_group_arn(self, kind: str) -> str:
        return self.arn("logs", f"log-group:{self.log_group(kind)}")

    @property
    def api(self) -> str:
        return self.prefix + "winner-api"

    def api_source_arn(self, api_id: str) -> str:
        return self.arn("execute-api", f"{api_id}/*")

    def api_arn(self, api_id: str) -> str:
        """The HTTP API's own ARN, as TagResource takes it (API Gateway's ARNs name no account)."""
        return f"arn:{self.partition}:apigateway:{self.region}::/apis/{api_id}"


@dataclasses.dataclass(frozen=True)
class Role:
    name: str
    policy_name: str
    policy: dict
    tags: dict
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


def desired(names: Names, tags: dict, options: Options = Options()) -> Stage:
    environment = dict(names.tables)
    roles = (
        Role(names.role("consumer"), "consumer-access", policies.consumer(names), tags),
        Role(names.role("api"), "api-access", policies.api(names), tags),
    )
    functions = (
        Function(names.function("consumer"), CONSUMER_HANDLER, names.role_arn("consumer"),
                 options.consumer_memory_mb, options.consumer_timeout_s, environment, tags),
        Function(names.function("api"), API_HANDLER, names.role_arn("api"),
                 options.api_memory_mb, options.api_timeout_s, environment, tags),
    )
    mapping = Mapping(names.function("consumer"), names.stream_arn, options.batch_size,
                      options.batching_window_s, options.max_retry_attempts)
    return Stage(names, tags, options, roles, functions, mapping, HttpApi(names.api, names.function_arn("api"), tags))
