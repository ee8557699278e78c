"""Every name and ARN of one stage, derived from its prefix, partition, account and region.

Its own module, below both the models of a stage and the policies that name the stage's ARNs, which
each need it.
"""

from __future__ import annotations

import dataclasses

from hello_winners import naming
from hello_winners.view import tables

# The managed policy that bounds every role a participant creates (its document is deploy.policies.boundary).
BOUNDARY_POLICY = "hello-winners-boundary"


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

    @property
    def queue(self) -> str:
        """The SQS queue where Lambda records each batch of the stream it gave up on (the mapping's on-failure
        destination)."""
        return self.prefix + "failed-batches"

    @property
    def queue_arn(self) -> str:
        return self.arn("sqs", self.queue)

    @property
    def boundary_arn(self) -> str:
        """The permissions boundary every role of a participant carries: one per account (see deploy.policies)."""
        return self.arn("iam", f"policy/{BOUNDARY_POLICY}", region=False)

    def api_arn(self, api_id: str) -> str:
        """The HTTP API's own ARN, as TagResource takes it (API Gateway's ARNs name no account)."""
        return f"arn:{self.partition}:apigateway:{self.region}::/apis/{api_id}"
