"""Reference solutions of the workshop's exercises, one function per exercise cell.

Instructor mode (``python -m hello_winners.workshop.notebooks build``) pastes each function's source into the
exercise cell tagged ``exercise:<name>``, and a stuck participant loads one with
``%load -n hello_winners.workshop.exercises.solutions.<name>``. So each function uses only the names its
lesson's notebook imports before the exercise (listed in each lesson's "tools" cell), and the module
imports the same names under the same spelling.

Lesson 2 builds a consumer that is correct when every record arrives once, in order; lesson 5 shows
where it overcounts and makes purchases idempotent. The deployed consumer (``hello_winners.view.consumer``)
is the grown-up version of both: it folds a whole batch before writing.
"""

import base64
import binascii
import json

import pandas as pd
from botocore.exceptions import ClientError
from matplotlib.figure import Figure

from hello_winners import analysis, deploy, events, naming
from hello_winners.view import tables
from hello_winners.deploy import bundle, models
from hello_winners.errors import EventError
from hello_winners.workshop.exercises import (LISTINGS, ROLES, add_to_score, cancelled_by_condition, product_item,
                                              score_update, tags_of)
from hello_winners.view.fold import marker_attribute, seq_key

# --- lesson 1: the stream --------------------------------------------------------------------------


def put_event(kinesis, stream_name, event):
    """Put one event on the stream once it is valid (events.validate): its JSON as the data
    (events.encode), its product id as the partition key (events.partition_key), so every event of a
    product lands on one shard, in order. Returns (shard id, sequence number); an invalid event raises
    EventError and nothing is put."""
    events.validate(event)
    response = kinesis.put_record(StreamName=stream_name, Data=events.encode(event),
                                  PartitionKey=events.partition_key(event))
    return response["ShardId"], response["SequenceNumber"]


def read_back(kinesis, stream_name, shard_id, sequence_number):
    """The event (a dict) of one record, read from its shard: an iterator at its sequence number, then
    one GetRecords."""
    iterator = kinesis.get_shard_iterator(
        StreamName=stream_name, ShardId=shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=sequence_number)["ShardIterator"]
    record = kinesis.get_records(ShardIterator=iterator, Limit=1)["Records"][0]
    return events.decode(record["Data"])


# --- lesson 2: the consumer, step by step ----------------------------------------------------------


def decode_record(record):
    """The event (a dict) inside one record of a Lambda Kinesis event.

    ``record["kinesis"]["data"]`` is base64 text of the event's JSON. A record that is not base64, or
    not a JSON object, raises EventError: the consumer skips it.
    """
    try:
        data = base64.b64decode(record["kinesis"]["data"], validate=True)
    except binascii.Error:
        raise EventError("the record's data is not base64") from None
    return events.decode(data)


def validate_event(event):
    """The kind of a valid event ("create", "image", "purchase", "product-view", "category-view"),
    or None when the event breaks its schema (the consumer skips it)."""
    try:
        return events.kind(events.validate(event))
    except EventError:
        return None


def record_contribution(dynamodb, table_names, event):
    """Record the merchant of a product (a create event) or its photographer (an image event).

    The first one wins: when the product already has one, nothing changes and it returns False.
    Purchases made before this contributor was known count for them too. Returns True when recorded.
    """
    role, who = ROLES[events.kind(event)], events.parse_origin(event["origin"])
    if who is None:
        return False  # an origin that names nobody cannot earn points
    try:
        item = dynamodb.update_item(
            TableName=table_names[tables.CONTRIBUTIONS], Key={"productId": {"S": event["data"]["id"]}},
            UpdateExpression=f"SET {role} = :id, {role}Name = :name",
            ConditionExpression=f"attribute_not_exists({role})",
            ExpressionAttributeValues={":id": {"S": who[0]}, ":name": {"S": who[1]}},
            ReturnValues="ALL_NEW")["Attributes"]
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    add_to_score(dynamodb, table_names, who[0], role, who[1], int(item.get("purchases", {"N": "0"})["N"]))
    return True


def tally_purchase(dynamodb, table_names, event):
    """Count a purchase: one more for the product, one point for its merchant and its photographer
    when they are known (those still unknown get it later, from record_contribution)."""
    item = dynamodb.update_item(
        TableName=table_names[tables.CONTRIBUTIONS], Key={"productId": {"S": event["data"]["id"]}},
        UpdateExpression="ADD purchases :one", ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="ALL_NEW")["Attributes"]
    for role in ROLES.values():
        if role in item:
            add_to_score(dynamodb, table_names, item[role]["S"], role, item[role + "Name"]["S"], 1)


def handle_batch(event, dynamodb, table_names):
    """Apply the records of a Lambda Kinesis event in order; skip bad records; report no failures."""
    for record in event["Records"]:
        try:
            data = decode_record(record)
        except EventError:
            continue  # it will never decode: retrying would block the shard
        kind = validate_event(data)
        if kind == "purchase":
            tally_purchase(dynamodb, table_names, data)
        elif kind in ROLES:
            record_contribution(dynamodb, table_names, data)
    return {"batchItemFailures": []}


# --- lesson 3: deploying with boto3 ----------------------------------------------------------------


def build_zip():
    """The consumer's zip: its handler module and what it imports, as deploy.bundle finds them."""
    return bundle.build()


def consumer_policy(names):
    """The consumer's least-privilege policy: read its stream, update its tables, record a batch Lambda gives
    up on in its queue, write its log group.

    Only the actions it uses, each on the exact ARNs (``names`` is the stage's deploy.names.Names).
    """
    group = names.log_group_arn("consumer")
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Resource": [names.stream_arn], "Action": [
            "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
            "kinesis:GetShardIterator", "kinesis:ListShards"]},
        {"Effect": "Allow", "Action": ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:UpdateItem"],
         "Resource": [names.table_arn(tables.CONTRIBUTIONS), names.table_arn(tables.SCORES)]},
        {"Effect": "Allow", "Action": ["dynamodb:BatchWriteItem"], "Resource": [names.table_arn(tables.REJECTS)]},
        {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [names.queue_arn]},
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup"], "Resource": [group]},
        {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": [f"{group}:*"]},
    ]}


def create_role(iam, names, policy, tags):
    """The consumer's role: Lambda may assume it, ``policy`` is its inline policy "consumer-access", it
    carries the account's permissions boundary (``names.boundary_arn``) and the stage's ``tags`` (teardown
    finds it by them). Reused when it exists. Returns its ARN."""
    name = names.role("consumer")
    try:
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(models.LAMBDA_TRUST),
                              PermissionsBoundary=names.boundary_arn,
                              Tags=[{"Key": k, "Value": v} for k, v in tags.items()])["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        arn = iam.get_role(RoleName=name)["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="consumer-access", PolicyDocument=json.dumps(policy))
    return arn


def create_function(lam, names, role_arn, code, tags):
    """The consumer function (python3.12, handler hello_winners.view.consumer.handler, 256 MB, 60 s, the
    table names as its environment, the stage's tags); when it exists, its code is updated. Returns its ARN.
    A brand-new role is not usable by Lambda for a few seconds: deploy.until_role_ready retries that."""
    name = names.function("consumer")
    try:
        deploy.until_role_ready(lambda: lam.create_function(
            FunctionName=name, Runtime="python3.12", Role=role_arn, Code={"ZipFile": code},
            Handler="hello_winners.view.consumer.handler", MemorySize=256, Timeout=60,
            Environment={"Variables": names.tables}, Tags=tags))
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
    except lam.exceptions.ResourceConflictException:
        lam.update_function_code(FunctionName=name, ZipFile=code)
        lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    return lam.get_function_configuration(FunctionName=name)["FunctionArn"]


def connect_stream(lam, names):
    """The event source mapping from the stream to the consumer: from TRIM_HORIZON (the whole day),
    100 records a batch within 1 s, bisect and retry (10 times) failed batches, partial-failure reports,
    a batch given up on recorded in the queue (names.queue_arn). Reused when it exists. Returns its UUID."""
    function = names.function("consumer")
    found = lam.list_event_source_mappings(FunctionName=function, EventSourceArn=names.stream_arn)
    if found["EventSourceMappings"]:
        return found["EventSourceMappings"][0]["UUID"]
    return deploy.until_role_ready(lambda: lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=names.stream_arn, StartingPosition="TRIM_HORIZON",
        BatchSize=100, MaximumBatchingWindowInSeconds=1, BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=10, FunctionResponseTypes=["ReportBatchItemFailures"],
        DestinationConfig={"OnFailure": {"Destination": names.queue_arn}}))["UUID"]


# --- lesson 4: who is winning ---------------------------------------------------------------------


def top_of_role(dynamodb, scores_table, role, limit, start_key=None):
    """One page of a role's leaderboard, highest score first: ``(rows, next_key)``.

    One Query on the ScoresByRole index (never a Scan), at most ``limit`` rows, each
    {"userId", "name", "score"} with an int score; ``next_key`` is the key to pass back as ``start_key``
    for the next page, None after the last.
    """
    page = {"ExclusiveStartKey": start_key} if start_key else {}
    response = dynamodb.query(
        TableName=scores_table, IndexName=tables.SCORES_INDEX, KeyConditionExpression="#role = :role",
        ExpressionAttributeNames={"#role": "role"}, ExpressionAttributeValues={":role": {"S": role}},
        ScanIndexForward=False, Limit=limit, **page)
    rows = [{"userId": i["userId"]["S"], "name": i["name"]["S"], "score": int(i["score"]["N"])}
            for i in response["Items"]]
    return rows, response.get("LastEvaluatedKey")


def scores_frame(items):
    """The Scores items (as DynamoDB returns them) as a DataFrame: userId, role, name (string dtype)
    and score (int64), by role, highest score first, ties by userId, indexed 0..n-1; empty gives no rows."""
    rows = [{"userId": i["userId"]["S"], "role": i["role"]["S"], "name": i["name"]["S"], "score": i["score"]["N"]}
            for i in items]
    frame = pd.DataFrame(rows, columns=["userId", "role", "name", "score"]).astype(
        {"userId": "string", "role": "string", "name": "string", "score": "int64"})
    return frame.sort_values(["role", "score", "userId"], ascending=[True, False, True], ignore_index=True)


def leaderboard_chart(scores, role, top=10):
    """A bar chart of the ``top`` contributors of ``role`` in ``scores`` (scores_frame's columns):
    highest first, each bar labelled with the name, every leader in another colour, a title and axis titles."""
    board = scores[scores["role"] == role].sort_values(["score", "userId"], ascending=[False, True]).head(top)
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    best = board["score"].max()
    ax.barh(list(board["name"]), list(board["score"]),
            color=["gold" if score == best else "steelblue" for score in board["score"]])
    ax.invert_yaxis()  # the first bar on top
    ax.set_title(f"Top {role}s by sales")
    ax.set_xlabel("Sales (purchases of their products)")
    ax.set_ylabel(role.capitalize())
    return fig


# --- lesson 5: delivery for real -------------------------------------------------------------------


def purchase_once(dynamodb, table_names, event, shard_id, sequence_number):
    """Count a purchase once however often it is delivered: True when counted, False for a repeat.

    One transaction moves the product's marker ``marker_attribute(shard_id)`` to this record (only if it is below
    it: ``seq_key`` makes sequence numbers compare as text) with the purchase, and adds the points.
    """
    product = event["data"]["id"]
    item = product_item(dynamodb, table_names, product)
    writes = [{"Update": {
        "TableName": table_names[tables.CONTRIBUTIONS], "Key": {"productId": {"S": product}},
        "UpdateExpression": "SET #marker = :seq ADD purchases :one",
        "ConditionExpression": "attribute_not_exists(#marker) OR #marker < :seq",
        "ExpressionAttributeNames": {"#marker": marker_attribute(shard_id)},
        "ExpressionAttributeValues": {":seq": {"S": seq_key(sequence_number)}, ":one": {"N": "1"}}}}]
    writes += [{"Update": score_update(table_names, item[role]["S"], role, item[role + "Name"]["S"], 1)}
               for role in ROLES.values() if role in item]
    try:
        dynamodb.transact_write_items(TransactItems=writes)
    except dynamodb.exceptions.TransactionCanceledException as error:
        if cancelled_by_condition(error):
            return False
        raise
    return True


def handle_batch_once(event, dynamodb, table_names):
    """handle_batch that counts each purchase once, and reports the first record it could not write
    (a DynamoDB error) in batchItemFailures, so Lambda delivers the batch again from there."""
    for record in event["Records"]:
        try:
            data = decode_record(record)
        except EventError:
            continue
        kind, sequence = validate_event(data), record["kinesis"]["sequenceNumber"]
        try:
            if kind == "purchase":
                purchase_once(dynamodb, table_names, data, record["eventID"].rpartition(":")[0], sequence)
            elif kind in ROLES:
                record_contribution(dynamodb, table_names, data)
        except ClientError:
            return {"batchItemFailures": [{"itemIdentifier": sequence}]}
    return {"batchItemFailures": []}


# --- lesson 6: extra credit ------------------------------------------------------------------------


def contributor_sales(frame, role):
    """Each product of each contributor of ``role`` with its sales: userId, name, productId, sales,
    firstSale, lastSale (the times of its first and last purchase).

    Who contributed a product is analysis.attribution(frame)'s answer (the first create or image wins);
    every purchase of the product counts, also those made before the contributor was known. The
    contributor with most sales first (ties by userId), then their products by sales (ties by productId),
    rows numbered 0..n-1.
    """
    owners = analysis.attribution(frame)[["productId", role, f"{role}Name"]].dropna()
    purchases = frame[frame["kind"] == "purchase"].astype({"productId": "string"})
    sold = purchases.groupby("productId")["time"].agg(sales="size", firstSale="min", lastSale="max").reset_index()
    table = owners.merge(sold, on="productId").rename(columns={role: "userId", f"{role}Name": "name"})
    table["total"] = table.groupby("userId")["sales"].transform("sum")
    table = table.sort_values(["total", "userId", "sales", "productId"], ascending=[False, True, False, True],
                              ignore_index=True)
    return table[["userId", "name", "productId", "sales", "firstSale", "lastSale"]]


def race_chart(race, role):
    """The sales race of ``race`` (analysis.sales_race's columns time, userId, name, sales) on a Figure:
    one step line of cumulative sales over time per contributor, labelled with their name, a legend,
    a title and axis titles."""
    fig = Figure(figsize=(9, 4.5), layout="constrained")
    ax = fig.subplots()
    for _, line in race.groupby("userId", sort=False, observed=True):
        ax.step(line["time"], line["sales"], where="post", label=str(line["name"].iloc[0]))
    ax.legend(title=f"Top {role}s")
    ax.set_title(f"Sales race: top {role}s")
    ax.set_xlabel("Time (UTC)")
    ax.set_ylabel("Cumulative sales")
    return fig


def sales_per_category(frame):
    """Purchases per category in an event frame (eventlog.to_frame), most first, ties by category name.

    A product's category is the one of its first create (a later create is a conflict); purchases of
    products nobody created are left out. Returns a Series of ints indexed by category.
    """
    created = frame[frame["kind"] == "create"].drop_duplicates("productId")
    category_of = dict(zip(created["productId"], created["category"]))
    bought = frame.loc[frame["kind"] == "purchase", "productId"].astype("string").map(category_of).dropna()
    counts = bought.value_counts().sort_index().sort_values(ascending=False, kind="stable")
    return counts.rename_axis("category").rename("purchases")


# --- lesson 7: clean up ----------------------------------------------------------------------------


def stage_leftovers(clients, prefix, stage):
    """What of the stage is still there: sorted (kind, name) of every LISTINGS resource named with
    ``prefix`` whose tags are the kit's and this stage's (naming.tags(stage)). Every list is read to its
    last page, and only resources named with the prefix are asked for their tags."""
    wanted = naming.tags(stage).items()
    left = []
    for kind, (service, operation, key, field) in LISTINGS.items():
        for page in clients[service].get_paginator(operation).paginate():
            for entry in page[key]:
                name = entry[field] if field else entry
                if name.startswith(prefix) and wanted <= tags_of(clients, kind, name).items():
                    left.append((kind, name))
    return sorted(left)
