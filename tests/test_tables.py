"""The winner view's tables: created on demand with the keys the consumer and the API rely on; priced."""

import boto3
import pytest
from moto import mock_aws

from hello_winners.view import capacity, tables
from hello_winners.errors import DeployError


@pytest.fixture
def client():
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


def test_names_maps_each_environment_variable_to_a_prefixed_table():
    assert tables.table_names("hw-alice-") == {"TABLE_CONTRIBUTIONS_NAME": "hw-alice-contributions",
                                         "TABLE_SCORES_NAME": "hw-alice-scores",
                                         "TABLE_REJECTS_NAME": "hw-alice-rejects"}


def test_create_makes_active_on_demand_tables_with_the_contracted_keys(client):
    names = tables.create(client, "hw-t-", tags={"hello-winners:stage": "t"})
    assert names == tables.table_names("hw-t-")
    scores = client.describe_table(TableName=names["TABLE_SCORES_NAME"])["Table"]
    assert scores["TableStatus"] == "ACTIVE"
    assert scores["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [(k["AttributeName"], k["KeyType"]) for k in scores["KeySchema"]] == [("userId", "HASH"), ("role", "RANGE")]
    (index,) = scores["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "ScoresByRole" and index["Projection"]["ProjectionType"] == "ALL"
    assert [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]] == [("role", "HASH"), ("score", "RANGE")]
    contributions = client.describe_table(TableName=names["TABLE_CONTRIBUTIONS_NAME"])["Table"]
    assert contributions["KeySchema"] == [{"AttributeName": "productId", "KeyType": "HASH"}]
    rejects = client.describe_table(TableName=names["TABLE_REJECTS_NAME"])["Table"]
    assert rejects["KeySchema"] == [{"AttributeName": "eventId", "KeyType": "HASH"}]
    tags = client.list_tags_of_resource(ResourceArn=scores["TableArn"])["Tags"]
    assert {"Key": "hello-winners:stage", "Value": "t"} in tags


def test_create_is_safe_to_call_again(client):
    first = tables.create(client, "hw-t-")
    client.put_item(TableName=first["TABLE_SCORES_NAME"],
                    Item={"userId": {"S": "u"}, "role": {"S": "merchant"}, "score": {"N": "3"}})
    assert tables.create(client, "hw-t-") == first
    assert client.scan(TableName=first["TABLE_SCORES_NAME"])["Count"] == 1


def test_an_existing_table_with_other_keys_is_reported_not_reused(client):
    client.create_table(TableName="hw-t-scores", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                        BillingMode="PAY_PER_REQUEST")
    with pytest.raises(DeployError, match="hw-t-scores already exists with other keys"):
        tables.create(client, "hw-t-")


def test_item_size_follows_dynamodbs_rules():
    # names + UTF-8 strings; a number is 1 byte per 2 significant digits plus 1.
    assert capacity.item_size({"userId": {"S": "é"}, "score": {"N": "12345"}}) == 6 + 2 + 5 + 4
    assert capacity.item_size({"n": {"N": "1000"}}) == 1 + 2


def test_write_units_round_up_the_larger_image_to_whole_kilobytes():
    small = {"k": {"S": "x" * 100}}
    big = {"k": {"S": "x" * 1500}}
    assert capacity.write_units(None, small) == 1
    assert capacity.write_units(small, big) == 2
    assert capacity.write_units(big, None) == 2  # a failed conditional write on the existing item


def test_a_score_change_costs_an_index_delete_and_put():
    before = {"userId": {"S": "u"}, "role": {"S": "merchant"}, "score": {"N": "1"}}
    after = dict(before, score={"N": "2"})
    assert capacity.index_write_units(None, before) == 1
    assert capacity.index_write_units(before, after) == 2
    assert capacity.index_write_units(after, dict(after, name={"S": "n"})) == 1
    assert capacity.score_update_units(before, 1) == 2  # new item: a write and an index put
    assert capacity.score_update_units(after, 1) == 3  # a write, an index delete and an index put


def test_keys_name_each_tables_key_attributes_hash_first():
    assert tables.keys(tables.CONTRIBUTIONS) == ("productId",)
    assert tables.keys(tables.SCORES) == ("userId", "role")
    assert tables.keys(tables.REJECTS) == ("eventId",)
