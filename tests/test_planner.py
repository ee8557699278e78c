"""The plan on real AWS (moto's in-process mock): tags at creation and again when lost, mappings being
deleted, lists of more than one page, and ARNs in the region's own partition."""

import io
import json
import zipfile

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from hello_winners import deploy, naming, targets
from hello_winners.targets import target
from hello_winners.targets import pages
from hello_winners.deploy import bundle, models, planner, policies, teardown

QUIET = lambda line: None  # noqa: E731
TAGS = naming.tags("alice")
TAGGED_AT_CREATION = {"create_stream", "create_role", "create_function", "create_api", "create_queue"}


def plan_for(stage="alice"):
    settings = targets.settings(stage=stage)
    clients = deploy.clients()
    return planner.plan(clients, models.desired(deploy.stage_names(settings, clients), settings.tags), bundle.build())


def test_everything_the_plan_creates_is_tagged_at_creation(mocked_aws):
    calls = plan_for()
    created = {c.method: c.params for c in calls if c.method in TAGGED_AT_CREATION | {"create_tables"}}
    assert set(created) == TAGGED_AT_CREATION | {"create_tables"}
    for method, params in created.items():
        given = params.get("Tags", params.get("tags"))
        assert (given if isinstance(given, dict) else {t["Key"]: t["Value"] for t in given}) == TAGS, method


def test_a_stage_that_lost_its_tags_is_tagged_again_and_then_torn_down_whole(mocked_aws):
    clients = deploy.clients()
    outputs = deploy.deploy(stage="alice", report=QUIET)
    keys = list(TAGS)
    clients["kinesis"].remove_tags_from_stream(StreamName=outputs.stream, TagKeys=keys)
    scores = clients["dynamodb"].describe_table(TableName=outputs.tables["TABLE_SCORES_NAME"])["Table"]["TableArn"]
    clients["dynamodb"].untag_resource(ResourceArn=scores, TagKeys=keys)
    clients["iam"].untag_role(RoleName="hw-alice-winner-consumer-role", TagKeys=keys)
    clients["lambda"].untag_resource(Resource=outputs.function_arns["api"], TagKeys=keys)
    queue = clients["sqs"].get_queue_url(QueueName="hw-alice-failed-batches")["QueueUrl"]
    clients["sqs"].untag_queue(QueueUrl=queue, TagKeys=keys)

    said = []
    deploy.deploy(stage="alice", report=said.append)
    assert said[0].endswith("5 changes")
    again = " again: it lacks the kit's tags (an interrupted deploy?)"
    assert [line.strip() for line in said[1:]] == [
        f"tag the role hw-alice-winner-consumer-role{again}", f"tag hw-alice-retail-stream{again}",
        f"tag hw-alice-scores{again}", f"tag hw-alice-failed-batches{again}",
        f"tag the function hw-alice-winner-api{again}"]
    removed = teardown.teardown(clients, "hw-alice-", "alice", report=said.append, sleep=pytest.fail)
    assert len(removed) == 11 and not any(" kept " in line for line in said)


def test_an_http_api_of_the_stages_name_without_its_tags_is_somebody_elses(mocked_aws):
    """API Gateway lets anyone name an API anything (the room policy scopes APIs by their tags): a look-alike
    is neither used nor deleted, and the stage gets its own."""
    clients = deploy.clients()
    clients["apigatewayv2"].create_api(Name="hw-alice-winner-api", ProtocolType="HTTP", Tags=naming.tags("bob"))
    outputs = deploy.deploy(stage="alice", report=QUIET)
    apis = clients["apigatewayv2"].get_apis()["Items"]
    assert len([a for a in apis if a["Name"] == "hw-alice-winner-api"]) == 2
    assert next(a for a in apis if a["ApiId"] == outputs.api_id)["Tags"] == TAGS
    teardown.teardown(clients, "hw-alice-", "alice", report=QUIET, sleep=lambda s: None)
    assert [a["Tags"] for a in clients["apigatewayv2"].get_apis()["Items"]] == [naming.tags("bob")]


def test_an_http_api_that_no_longer_sends_everything_to_the_function_is_replaced(mocked_aws):
    clients = deploy.clients()
    outputs = deploy.deploy(stage="alice", report=QUIET)
    route = clients["apigatewayv2"].get_routes(ApiId=outputs.api_id)["Items"][0]
    clients["apigatewayv2"].delete_route(ApiId=outputs.api_id, RouteId=route["RouteId"])
    said = []
    deploy.deploy(stage="alice", dry_run=True, report=said.append)
    assert said == ["\n".join([
        " 1. replace the HTTP API hw-alice-winner-api: it no longer sends every request to the function  "
        "[apigatewayv2.delete_api]",
        " 2. create the HTTP API hw-alice-winner-api, sending every request to hw-alice-winner-api  "
        "[apigatewayv2.create_api]",
        " 3. withdraw hw-alice-winner-api's permission for an API that is gone  [lambda.remove_permission]",
        " 4. let hw-alice-winner-api invoke hw-alice-winner-api  [lambda.add_permission]"])]
    replaced = deploy.deploy(stage="alice", report=QUIET)
    assert replaced.api_id != outputs.api_id
    assert [r["RouteKey"] for r in clients["apigatewayv2"].get_routes(ApiId=replaced.api_id)["Items"]] == ["$default"]
    assert planner.plan(clients, models.desired(deploy.stage_names(targets.settings(stage="alice"), clients), TAGS),
                        bundle.build()) == []


def test_a_mapping_lambda_is_deleting_counts_as_gone_and_a_new_one_is_planned(mocked_aws):
    clients = deploy.clients()
    deploy.deploy(stage="alice", report=QUIET)

    def deleting(parsed, **_):
        for mapping in parsed.get("EventSourceMappings", []):
            mapping["State"] = "Deleting"

    targets.get().session().events.register("after-call.lambda.ListEventSourceMappings", deleting)
    clients = deploy.clients()
    printed = []
    deploy.deploy(stage="alice", dry_run=True, report=printed.append)
    assert printed == [" 1. connect the stream to hw-alice-winner-consumer from TRIM_HORIZON  "
                       "[lambda.create_event_source_mapping]"]
    assert deploy.outputs(targets.settings(stage="alice"), clients, deploy.stage_names(
        targets.settings(stage="alice"), clients)).mapping_uuid == ""


def test_the_plan_finds_the_stages_api_past_the_first_page(mocked_aws):
    deploy.deploy(stage="alice", report=QUIET)
    clients = deploy.clients()
    others = [{"Name": f"someone-else-{n}", "ApiId": f"other{n}", "ProtocolType": "HTTP",
               "RouteSelectionExpression": "$request.method $request.path"} for n in range(3)]
    answered = []

    def first_page_of_others(**_):
        """The first GetApis answers a page of other APIs; the next goes to moto, which has the stage's."""
        if not answered:
            answered.append(True)
            return AWSResponse("https://apigateway", 200, {}, None), {"Items": others, "NextToken": "page-2"}
        return None

    clients["apigatewayv2"].meta.events.register("before-call.apigatewayv2.GetApis", first_page_of_others)
    settings = targets.settings(stage="alice")
    desired = models.desired(deploy.stage_names(settings, clients), settings.tags)
    assert planner.plan(clients, desired, bundle.build()) == []
    assert answered


def test_every_page_of_a_list_is_read(mocked_aws):
    logs, dynamodb = boto3.client("logs"), boto3.client("dynamodb")
    for n in range(5):
        logs.create_log_group(logGroupName=f"/aws/lambda/hw-alice-{n}")
        dynamodb.create_table(TableName=f"hw-alice-{n}", BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
    small = {"PaginationConfig": {"PageSize": 2}}
    assert len(list(pages.items(logs, "describe_log_groups", "logGroups", **small))) == 5
    assert len(list(pages.items(dynamodb, "list_tables", "TableNames", **small))) == 5


@pytest.mark.parametrize("region, partition", [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")])
def test_arns_are_in_the_partition_of_the_region(mocked_aws, monkeypatch, region, partition):
    monkeypatch.setenv("AWS_REGION", region)
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    target._aws_session.cache_clear()
    names = deploy.stage_names(targets.settings(stage="alice"), deploy.clients())
    arns = [names.stream_arn, names.role_arn("consumer"), names.function_arn("api"), names.api_arn("abc"),
            names.table_arn("TABLE_SCORES_NAME"), names.log_group_arn("consumer"), names.api_source_arn("abc")]
    (create_boundary,) = planner.boundary(deploy.clients()["iam"], names)
    document = json.dumps([policies.consumer(names), policies.api(names)]) + create_boundary.params["PolicyDocument"]
    assert all(arn.startswith(f"arn:{partition}:") for arn in arns)
    assert document.count(f'"arn:{partition}:') == document.count('"arn:')


MAPPING_SETTINGS = [("batch_size", 250, "BatchSize"), ("batching_window_s", 5, "MaximumBatchingWindowInSeconds"),
                    ("max_retry_attempts", 3, "MaximumRetryAttempts")]


def test_a_redeploy_that_changes_a_mapping_setting_updates_that_setting_and_only_then(mocked_aws):
    deploy.deploy(stage="alice", report=QUIET)
    same = []
    deploy.deploy(stage="alice", dry_run=True, report=same.append)
    assert same == ["nothing to change"]
    for option, value, key in MAPPING_SETTINGS:
        changed = []
        deploy.deploy(stage="alice", options=models.Options(**{option: value}), dry_run=True, report=changed.append)
        assert changed == [f" 1. update {key} of the stream's mapping to hw-alice-winner-consumer  "
                           "[lambda.update_event_source_mapping]"], option
    deploy.deploy(stage="alice", options=models.Options(**{o: v for o, v, _ in MAPPING_SETTINGS}), report=QUIET)
    (mapping,) = deploy.clients()["lambda"].list_event_source_mappings(
        FunctionName="hw-alice-winner-consumer")["EventSourceMappings"]
    assert {key: mapping[key] for _, _, key in MAPPING_SETTINGS} == {key: value for _, value, key in MAPPING_SETTINGS}


def test_every_planned_call_is_valid_for_the_installed_botocores_models(mocked_aws):
    """Every parameter the kit plans to pass exists in botocore's models, with the right type. The oldest CI run
    pins boto3's floor (pyproject.toml, .ci/oldest-constraints.txt): there this checks the floor's models, which
    must know every parameter (Kinesis CreateStream's Tags came with botocore 1.35.26)."""
    from botocore.validate import ParamValidator

    from hello_winners.deploy import room

    clients = deploy.clients()
    settings = targets.settings(stage="alice")
    names = deploy.stage_names(settings, clients)
    fresh = planner.plan(clients, models.desired(names, settings.tags), bundle.build())
    deploy.deploy(stage="alice", report=QUIET)
    clients["iam"].delete_role_permissions_boundary(RoleName=names.role("api"))
    clients["sqs"].untag_queue(QueueUrl=clients["sqs"].get_queue_url(QueueName=names.queue)["QueueUrl"],
                               TagKeys=list(TAGS))
    changed = planner.plan(clients, models.desired(names, settings.tags, models.Options(batch_size=7)), b"other code")
    account = names.account
    rooms = room.plan(clients["iam"], room.Room("us-east-1", account, "aws", ("bob",)))
    planned = [c for c in fresh + changed + rooms if c.service != "kit"]
    assert {"put_role_permissions_boundary", "tag_queue", "update_event_source_mapping", "update_function_code",
            "create_user", "create_policy"} <= {c.method for c in planned}
    for call in planned:
        client = clients[call.service]
        operation = client.meta.service_model.operation_model(client.meta.method_to_api_mapping[call.method])
        params = {k: "ref" if isinstance(v, planner.Ref) else v for k, v in call.params.items()}
        report = ParamValidator().validate(params, operation.input_shape)
        assert not report.has_errors(), f"{call.service}.{call.method}: {report.generate_report()}"


def test_a_fresh_stage_is_planned_in_these_steps_as_a_dry_run_prints_them(mocked_aws):
    said = []
    deploy.deploy(stage="alice", dry_run=True, report=said.append)
    assert "\n".join(said).splitlines() == [
        " 1. create the permissions boundary hello-winners-boundary of the account's stages  [iam.create_policy]",
        " 2. create the role hw-alice-winner-consumer-role, bounded by the account's boundary  [iam.create_role]",
        " 3. set the policy consumer-access of hw-alice-winner-consumer-role  [iam.put_role_policy]",
        " 4. create the role hw-alice-winner-api-role, bounded by the account's boundary  [iam.create_role]",
        " 5. set the policy api-access of hw-alice-winner-api-role  [iam.put_role_policy]",
        " 6. create the stream hw-alice-retail-stream with 2 shards  [kinesis.create_stream]",
        " 7. wait until hw-alice-retail-stream is active  [kit.wait]",
        " 8. tag hw-alice-retail-stream  [kinesis.add_tags_to_stream]",
        " 9. create the tables hw-alice-contributions, hw-alice-scores, hw-alice-rejects  [kit.create_tables]",
        "10. create the queue hw-alice-failed-batches, where Lambda records a batch it gives up on  [sqs.create_queue]",
        "11. create the function hw-alice-winner-consumer  [lambda.create_function]",
        "12. wait until hw-alice-winner-consumer is active  [kit.wait]",
        "13. create the function hw-alice-winner-api  [lambda.create_function]",
        "14. wait until hw-alice-winner-api is active  [kit.wait]",
        "15. connect the stream to hw-alice-winner-consumer from TRIM_HORIZON  [lambda.create_event_source_mapping]",
        "16. create the HTTP API hw-alice-winner-api, sending every request to hw-alice-winner-api  [apigatewayv2.create_api]",
        "17. let hw-alice-winner-api invoke hw-alice-winner-api  [lambda.add_permission]",
    ]


def test_the_stream_is_read_from_its_start_with_batch_failures_bisected_reported_and_kept(mocked_aws):
    outputs = deploy.deploy(stage="alice", report=QUIET)
    (mapping,) = deploy.clients()["lambda"].list_event_source_mappings(
        FunctionName="hw-alice-winner-consumer")["EventSourceMappings"]
    assert mapping["EventSourceArn"] == outputs.stream_arn and mapping["State"] == "Enabled"
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"].endswith(":hw-alice-failed-batches")


def test_a_stage_drifted_in_every_way_is_planned_repair_by_repair_and_then_needs_nothing(mocked_aws):
    clients = deploy.clients()
    deploy.deploy(stage="alice", report=QUIET)
    iam, lam = clients["iam"], clients["lambda"]
    iam.delete_role_policy(RoleName="hw-alice-winner-consumer-role", PolicyName="consumer-access")
    iam.put_role_policy(RoleName="hw-alice-winner-api-role", PolicyName="api-access", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}))
    iam.delete_role_permissions_boundary(RoleName="hw-alice-winner-api-role")
    lam.update_function_code(FunctionName="hw-alice-winner-consumer", ZipFile=_zip({"index.py": "x = 1\n"}))
    lam.update_function_configuration(FunctionName="hw-alice-winner-api", MemorySize=1024,
                                      Environment={"Variables": {}})
    for function in ("consumer", "api"):
        lam.untag_resource(Resource=lam.get_function(FunctionName=f"hw-alice-winner-{function}")["Configuration"][
            "FunctionArn"], TagKeys=list(TAGS))
    (mapping,) = lam.list_event_source_mappings(FunctionName="hw-alice-winner-consumer")["EventSourceMappings"]
    lam.update_event_source_mapping(UUID=mapping["UUID"], BatchSize=7, MaximumRetryAttempts=0)
    said = []
    deploy.deploy(stage="alice", dry_run=True, report=said.append)
    assert "\n".join(said).splitlines() == [
        " 1. set the policy consumer-access of hw-alice-winner-consumer-role  [iam.put_role_policy]",
        " 2. bound the role hw-alice-winner-api-role by the account's boundary (it was made without)"
        "  [iam.put_role_permissions_boundary]",
        " 3. update the policy api-access of hw-alice-winner-api-role  [iam.put_role_policy]",
        " 4. tag the function hw-alice-winner-consumer again: it lacks the kit's tags (an interrupted deploy?)"
        "  [lambda.tag_resource]",
        " 5. update the code of hw-alice-winner-consumer  [lambda.update_function_code]",
        " 6. wait until hw-alice-winner-consumer is updated  [kit.wait]",
        " 7. tag the function hw-alice-winner-api again: it lacks the kit's tags (an interrupted deploy?)"
        "  [lambda.tag_resource]",
        " 8. update Environment, MemorySize of hw-alice-winner-api  [lambda.update_function_configuration]",
        " 9. wait until hw-alice-winner-api is updated  [kit.wait]",
        "10. update BatchSize, MaximumRetryAttempts of the stream's mapping to hw-alice-winner-consumer"
        "  [lambda.update_event_source_mapping]",
    ]
    deploy.deploy(stage="alice", report=QUIET)
    again = []
    deploy.deploy(stage="alice", dry_run=True, report=again.append)
    assert again == ["nothing to change"]


def test_exactly_the_calls_that_hand_lambda_a_role_wait_out_iams_propagation(mocked_aws):
    """A new role may be refused by Lambda for seconds; the executor retries only what is marked so."""
    clients = deploy.clients()
    settings = targets.settings(stage="alice")
    names = deploy.stage_names(settings, clients)
    fresh = planner.plan(clients, models.desired(names, settings.tags), bundle.build())
    deploy.deploy(stage="alice", report=QUIET)
    clients["lambda"].update_function_configuration(FunctionName="hw-alice-winner-api", MemorySize=1024)
    changed = planner.plan(clients, models.desired(names, settings.tags, models.Options(batch_size=7)), bundle.build())
    hands_a_role = {"create_function", "update_function_configuration", "create_event_source_mapping"}
    assert {c.method for c in changed} >= {"update_function_configuration", "update_event_source_mapping"}
    for call in fresh + changed:
        assert call.names_role is (call.method in hands_a_role), call.method


def _zip(files):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


def test_the_apis_permission_widened_to_any_api_is_withdrawn_and_granted_to_the_stages_api_alone(mocked_aws):
    lam = deploy.clients()["lambda"]
    outputs = deploy.deploy(stage="alice", report=QUIET)
    lam.remove_permission(FunctionName="hw-alice-winner-api", StatementId=planner.STATEMENT_ID)
    lam.add_permission(FunctionName="hw-alice-winner-api", StatementId=planner.STATEMENT_ID,
                       Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com")
    said = []
    deploy.deploy(stage="alice", dry_run=True, report=said.append)
    assert "\n".join(said).splitlines() == [
        " 1. withdraw hw-alice-winner-api's permission that lets any API invoke it  [lambda.remove_permission]",
        " 2. let hw-alice-winner-api invoke hw-alice-winner-api  [lambda.add_permission]"]
    deploy.deploy(stage="alice", report=QUIET)
    (statement,) = json.loads(lam.get_policy(FunctionName="hw-alice-winner-api")["Policy"])["Statement"]
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"].split(":")[5] == f"{outputs.api_id}/*"


def test_what_lambda_adds_beside_a_functions_variables_or_a_mappings_destination_is_no_change(mocked_aws):
    """Lambda's answer carries more than the kit sets (an Environment's Error when KMS fails, a destination's
    OnSuccess): only what the kit sets is compared, so a stage as deployed plans nothing."""
    deploy.deploy(stage="alice", report=QUIET)

    def more(parsed, **_):
        if "Environment" in parsed:
            parsed["Environment"]["Error"] = {"ErrorCode": "KMSAccessDeniedException", "Message": "..."}
        for mapping in parsed.get("EventSourceMappings", []):
            mapping["DestinationConfig"]["OnSuccess"] = {}

    events = targets.get().session().events
    events.register("after-call.lambda.GetFunctionConfiguration", more)
    events.register("after-call.lambda.ListEventSourceMappings", more)
    said = []
    deploy.deploy(stage="alice", dry_run=True, report=said.append)
    assert said == ["nothing to change"]


def test_a_queue_and_an_api_answered_with_no_tags_at_all_are_tagged_again_or_somebody_elses(mocked_aws):
    """AWS leaves out an empty tag list (ListQueueTags, GetApis): no tags at all is not the kit's tags."""
    deploy.deploy(stage="alice", report=QUIET)

    def untagged(parsed, **_):
        parsed.pop("Tags", None)
        for api in parsed.get("Items", []):
            api.pop("Tags", None)

    events = targets.get().session().events
    events.register("after-call.sqs.ListQueueTags", untagged)
    events.register("after-call.apigatewayv2.GetApis", untagged)
    said = []
    deploy.deploy(stage="alice", dry_run=True, report=said.append)
    assert [line.split("  [")[1] for line in "\n".join(said).splitlines()] == [
        "sqs.tag_queue]", "apigatewayv2.create_api]", "lambda.remove_permission]", "lambda.add_permission]"]


def test_an_api_whose_default_stage_no_longer_deploys_by_itself_is_replaced(mocked_aws):
    deploy.deploy(stage="alice", report=QUIET)

    def by_hand(parsed, **_):  # moto has no UpdateStage: the answer says what it would
        for stage in parsed.get("Items", []):
            stage["AutoDeploy"] = False

    targets.get().session().events.register("after-call.apigatewayv2.GetStages", by_hand)
    said = []
    deploy.deploy(stage="alice", dry_run=True, report=said.append)
    assert "\n".join(said).splitlines()[0] == (
        " 1. replace the HTTP API hw-alice-winner-api: it no longer sends every request to the function  "
        "[apigatewayv2.delete_api]")


def test_the_boundary_and_the_roles_trust_are_created_as_the_policies_say(mocked_aws):
    from hello_winners.deploy import policies

    clients = deploy.clients()
    deploy.deploy(stage="alice", report=QUIET)
    names = deploy.stage_names(targets.settings(stage="alice"), clients)
    iam = clients["iam"]
    policy = iam.get_policy(PolicyArn=names.boundary_arn)["Policy"]
    assert policy["Description"] == "hello-winners: the most any role of a stage may do"
    document = iam.get_policy_version(PolicyArn=names.boundary_arn, VersionId=policy["DefaultVersionId"])
    assert document["PolicyVersion"]["Document"] == policies.boundary(account=names.account, partition="aws")
    for role in ("consumer", "api"):
        trust = iam.get_role(RoleName=names.role(role))["Role"]["AssumeRolePolicyDocument"]
        assert trust == models.LAMBDA_TRUST


def test_a_mapping_from_another_stream_is_not_the_stages(mocked_aws):
    clients = deploy.clients()
    outputs = deploy.deploy(stage="alice", report=QUIET)
    lam, kinesis = clients["lambda"], clients["kinesis"]
    kinesis.create_stream(StreamName="hw-alice-scratch", ShardCount=1)
    scratch = kinesis.describe_stream_summary(StreamName="hw-alice-scratch")["StreamDescriptionSummary"]["StreamARN"]
    lam.create_event_source_mapping(FunctionName="hw-alice-winner-consumer", EventSourceArn=scratch,
                                    StartingPosition="LATEST", BatchSize=100)
    lam.delete_event_source_mapping(UUID=outputs.mapping_uuid)
    said = []
    deploy.deploy(stage="alice", dry_run=True, report=said.append)
    assert said == [" 1. connect the stream to hw-alice-winner-consumer from TRIM_HORIZON  "
                    "[lambda.create_event_source_mapping]"]


def test_a_mapping_without_its_destination_and_a_function_without_variables_are_set_again(mocked_aws):
    """What Lambda leaves out of its answer when it is not set: a destination, a function's variables."""
    deploy.deploy(stage="alice", report=QUIET)

    def unset(parsed, **_):
        if "Environment" in parsed:
            parsed["Environment"] = {"Error": {"ErrorCode": "KMSAccessDeniedException", "Message": "..."}}
        for mapping in parsed.get("EventSourceMappings", []):
            mapping["DestinationConfig"] = {}

    events = targets.get().session().events
    events.register("after-call.lambda.GetFunctionConfiguration", unset)
    events.register("after-call.lambda.ListEventSourceMappings", unset)
    said = []
    deploy.deploy(stage="alice", dry_run=True, report=said.append)
    assert [line for line in "\n".join(said).splitlines() if "wait" not in line] == [
        " 1. update Environment of hw-alice-winner-consumer  [lambda.update_function_configuration]",
        " 3. update Environment of hw-alice-winner-api  [lambda.update_function_configuration]",
        " 5. update DestinationConfig of the stream's mapping to hw-alice-winner-consumer"
        "  [lambda.update_event_source_mapping]"]


@pytest.mark.parametrize("code", ["QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"])
def test_a_missing_queue_is_created_whichever_protocol_names_it(mocked_aws, code):
    """SQS names a missing queue QueueDoesNotExist, or by its query protocol's code (as moto does): either means create it."""
    from botocore.stub import Stubber

    clients = deploy.clients()
    settings = targets.settings(stage="alice")
    stage = models.desired(deploy.stage_names(settings, clients), settings.tags)
    with Stubber(clients["sqs"]) as stubbed:
        stubbed.add_client_error("get_queue_url", service_error_code=code, http_status_code=400)
        (call,) = planner.queue(clients["sqs"], stage)
    assert (call.method, call.params["QueueName"]) == ("create_queue", "hw-alice-failed-batches")
