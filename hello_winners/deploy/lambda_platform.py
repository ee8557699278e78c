"""Facts of the AWS Lambda platform the kit deploys to, shared by the zip builder and the local runtime."""

RUNTIME = "python3.12"
# What the python3.12 Lambda runtime already has: boto3 and what boto3 needs.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"})
