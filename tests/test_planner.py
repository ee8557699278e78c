"""The plan on real AWS (moto's in-process mock): ARNs in the region's own partition."""

import json

import pytest

from hello_winners import deploy, targets
from hello_winners.deploy import policies


@pytest.mark.parametrize("region, partition", [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")])
def test_arns_are_in_the_partition_of_the_region(mocked_aws, monkeypatch, region, partition):
    monkeypatch.setenv("AWS_REGION", region)
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    targets._aws_session.cache_clear()
    names = deploy.stage_names(targets.settings(stage="alice"), deploy.clients())
    arns = [names.stream_arn, names.role_arn("consumer"), names.function_arn("api"), names.api_arn("abc"),
            names.table_arn("TABLE_SCORES_NAME"), names.log_group_arn("consumer"), names.api_source_arn("abc")]
    document = json.dumps([policies.consumer(names), policies.api(names)])
    assert all(arn.startswith(f"arn:{partition}:") for arn in arns)
    assert document.count(f'"arn:{partition}:') == document.count('"arn:')
