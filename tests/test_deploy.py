"""Deploying a stage on the embedded AWS (a real moto server over HTTP), redeploying and tearing down."""

import io
import json
import zipfile
from pathlib import Path

import pytest

from hello_winners import deploy, targets
from hello_winners.view import tables
from hello_winners.deploy import bundle, models, planner, teardown
from hello_winners.deploy.executor import describe

pytestmark = pytest.mark.usefixtures("embedded_server")


@pytest.fixture
def stage(request):
    """A stage of its own for each test, torn down afterwards."""
    settings = targets.settings(stage=request.node.name.replace("_", "")[-14:].strip("-") or "t")
    yield settings
    teardown.teardown(deploy.clients(settings.target, settings.stage), settings.prefix, settings.stage,
                      report=lambda line: None)


def test_a_deploy_creates_every_resource_and_reports_its_outputs(stage):
    outputs = deploy.deploy(stage=stage.stage, report=lambda line: None)
    clients = deploy.clients(stage=stage.stage)
    assert outputs.stream == stage.prefix + "retail-stream"
    assert clients["kinesis"].describe_stream_summary(StreamName=outputs.stream)["StreamDescriptionSummary"]["OpenShardCount"] == 2
    assert set(clients["dynamodb"].list_tables()["TableNames"]) >= set(outputs.tables.values())
    consumer = clients["lambda"].get_function_configuration(FunctionName=outputs.functions["consumer"])
    assert consumer["Runtime"] == "python3.12"
    assert consumer["Handler"] == "hello_winners.view.consumer.handler"
    assert consumer["Environment"]["Variables"] == tables.table_names(stage.prefix)
    (mapping,) = planner.live_mappings(clients["lambda"], outputs.functions["consumer"])
    assert mapping["UUID"] == outputs.mapping_uuid
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["BatchSize"] == 100 and mapping["MaximumRetryAttempts"] == 10
    names = deploy.stage_names(stage, clients)
    assert clients["sqs"].get_queue_url(QueueName=names.queue)["QueueUrl"].endswith(f"/{names.account}/{names.queue}")
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == names.queue_arn
    for kind in ("consumer", "api"):
        role = clients["iam"].get_role(RoleName=f"{stage.prefix}winner-{kind}-role")["Role"]
        assert role["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith(":policy/hello-winners-boundary")
    assert outputs.api_url.startswith("http://127.0.0.1:")
    text = str(outputs)
    assert outputs.stream_arn.split(":")[4] not in text  # the account id is masked in printed outputs
    assert "API URL" in text and outputs.api_url in text


def test_a_redeploy_of_an_unchanged_stage_changes_nothing(stage):
    deploy.deploy(stage=stage.stage, report=lambda line: None)
    printed = []
    deploy.deploy(stage=stage.stage, dry_run=True, report=printed.append)
    assert printed == ["nothing to change"]


def test_a_redeploy_updates_only_what_differs(stage, monkeypatch):
    deploy.deploy(stage=stage.stage, report=lambda line: None)
    original = bundle.build

    def changed_code(handlers=bundle.HANDLERS):
        archive = io.BytesIO(original(handlers))
        with zipfile.ZipFile(archive, "a") as extra:
            extra.writestr(zipfile.ZipInfo("NOTICE.txt", date_time=(1980, 1, 1, 0, 0, 0)), "a new file")
        return archive.getvalue()

    monkeypatch.setattr(bundle, "build", changed_code)
    steps = []
    deploy.deploy(stage=stage.stage, options=models.Options(batch_size=50), report=steps.append)
    assert steps[0].endswith("5 changes")
    assert [s.strip() for s in steps[1:]] == [
        f"update the code of {stage.prefix}winner-consumer",
        f"wait until {stage.prefix}winner-consumer is updated",
        f"update the code of {stage.prefix}winner-api",
        f"wait until {stage.prefix}winner-api is updated",
        f"update BatchSize of the stream's mapping to {stage.prefix}winner-consumer",
    ]
    clients = deploy.clients(stage=stage.stage)
    config = clients["lambda"].get_function_configuration(FunctionName=f"{stage.prefix}winner-consumer")
    assert config["CodeSha256"] == bundle.code_sha256(changed_code())


def test_the_policies_name_exact_arns_and_only_the_actions_used(stage):
    outputs = deploy.deploy(stage=stage.stage, report=lambda line: None)
    iam = deploy.clients(stage=stage.stage)["iam"]
    documents = {}
    for kind in ("consumer", "api"):
        role = f"{stage.prefix}winner-{kind}-role"
        (policy,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
        document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
        documents[kind] = json.loads(document) if isinstance(document, str) else document
    for document in documents.values():
        for statement in document["Statement"]:
            assert statement["Effect"] == "Allow"
            assert "*" not in statement["Resource"]
            for resource in statement["Resource"]:
                assert resource.startswith("arn:aws:") and stage.prefix in resource
    account = outputs.stream_arn.split(":")[4]
    table = lambda name: f"arn:aws:dynamodb:us-east-1:{account}:table/{stage.prefix}{name}"  # noqa: E731
    grants = {kind: {(a, r) for s in d["Statement"] for a in s["Action"] for r in s["Resource"]}
              for kind, d in documents.items()}
    assert ("kinesis:GetRecords", outputs.stream_arn) in grants["consumer"]
    assert ("dynamodb:UpdateItem", table("scores")) in grants["consumer"]
    assert ("dynamodb:BatchWriteItem", table("rejects")) in grants["consumer"]
    assert not any(a.startswith("kinesis:") for a, _ in grants["api"])
    assert grants["api"] >= {("dynamodb:Query", table("scores") + "/index/ScoresByRole"),
                             ("dynamodb:GetItem", table("contributions"))}
    assert not any(a in ("dynamodb:Scan", "dynamodb:PutItem", "dynamodb:UpdateItem") for a, _ in grants["api"])


def test_teardown_leaves_nothing_of_the_stage_in_any_service(stage, instructor):
    deploy.deploy(stage=stage.stage, report=lambda line: None)
    clients = deploy.clients(stage=stage.stage)
    instructor("dynamodb").create_table(  # a table with the prefix but not the kit's tags must survive
        TableName=stage.prefix + "notes", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
    said = []
    removed = teardown.teardown(clients, stage.prefix, stage.stage, report=said.append)
    assert {r.kind for r in removed} == {"event source mapping", "HTTP API", "function", "role", "table", "stream",
                                         "queue"}
    assert any("kept table " + stage.prefix + "notes" in line for line in said)
    assert not [f for f in clients["lambda"].list_functions()["Functions"] if f["FunctionName"].startswith(stage.prefix)]
    assert not [m for m in clients["lambda"].list_event_source_mappings()["EventSourceMappings"]
                if stage.prefix in m["EventSourceArn"]]
    assert not [a for a in clients["apigatewayv2"].get_apis()["Items"] if a["Name"].startswith(stage.prefix)]
    assert not [r for r in clients["iam"].list_roles()["Roles"] if r["RoleName"].startswith(stage.prefix)]
    assert [t for t in clients["dynamodb"].list_tables()["TableNames"] if t.startswith(stage.prefix)] == [stage.prefix + "notes"]
    assert not [s for s in clients["kinesis"].list_streams()["StreamNames"] if s.startswith(stage.prefix)]
    assert not clients["sqs"].list_queues(QueueNamePrefix=stage.prefix).get("QueueUrls")
    instructor("dynamodb").delete_table(TableName=stage.prefix + "notes")


def test_the_plan_for_a_new_stage_creates_in_dependency_order(stage):
    clients = deploy.clients(stage=stage.stage)
    names = deploy.stage_names(stage, clients)
    calls = planner.plan(clients, models.desired(names, stage.tags), bundle.build())
    methods = [c.method for c in calls]
    assert methods.index("create_stream") < methods.index("create_event_source_mapping")
    assert methods.index("create_role") < methods.index("create_function")
    assert methods.index("create_function") < methods.index("create_event_source_mapping")
    assert methods.index("create_queue") < methods.index("create_event_source_mapping")  # its on-failure destination
    assert methods.index("create_function") < methods.index("create_api") < methods.index("add_permission")
    assert "create_tables" in methods
    # Roles first: IAM's propagation delay passes while the stream and the tables are created.
    assert methods.index("create_role") < methods.index("create_stream") < methods.index("create_tables")
    assert describe(calls).startswith(" 1. create the role")


def test_the_zip_is_reproducible_and_holds_exactly_what_the_handlers_import():
    first, second = bundle.build(), bundle.build()
    assert first == second
    names = set(zipfile.ZipFile(io.BytesIO(first)).namelist())
    assert {"hello_winners/view/consumer.py", "hello_winners/view/api.py", "hello_winners/view/fold.py",
            "hello_winners/events/__init__.py", "hello_winners/view/web/leaderboard.html",
            "fastjsonschema/__init__.py"} <= names
    assert {n for n in names if n.startswith("hello_winners/events/schemas/")} == {
        f"hello_winners/events/schemas/{p.name}"
        for p in (Path(bundle.__file__).parents[1] / "events" / "schemas").glob("*.json")}
    # What only notebooks and commands use stays out: no pandas, no deploy code, no boto3 (the runtime has it).
    assert not any(n.startswith(("pandas/", "boto3/", "botocore/", "hello_winners/deploy/", "hello_winners/analysis"))
                   for n in names)


def test_a_role_not_yet_assumable_is_retried_with_backoff_for_about_two_minutes():
    from botocore.stub import Stubber

    from hello_winners.deploy import executor, propagation
    from hello_winners.errors import DeployError

    lam = deploy.clients()["lambda"]
    call = planner.Call("lambda", "create_function", {
        "FunctionName": "f", "Runtime": "python3.12", "Role": "arn:aws:iam::000000000000:role/r",
        "Handler": "h.handler", "Code": {"ZipFile": b"zip"}}, "create the function f", names_role=True)
    not_ready = "The role defined for the function cannot be assumed by Lambda."
    slept, heard = [], []
    with Stubber(lam) as stub:
        for _ in range(2):
            stub.add_client_error("create_function", "InvalidParameterValueException", not_ready)
        stub.add_response("create_function", {"FunctionName": "f"})
        executor.execute({"lambda": lam}, [call], sleep=slept.append, report=heard.append)
        stub.assert_no_pending_responses()
    assert len(slept) == 2 and all(0 <= s <= 15 for s in slept)
    assert sum("not usable by Lambda yet" in line for line in heard) == 2  # the participant sees why it waits
    slept.clear()
    with Stubber(lam) as stub:
        for _ in range(200):
            stub.add_client_error("create_function", "InvalidParameterValueException", not_ready)
        with pytest.raises(DeployError, match="could not create the function f: InvalidParameterValueException"):
            executor.execute({"lambda": lam}, [call], sleep=slept.append, report=lambda line: None)
    # Backoff grows (jittered, capped), and gives up once about two minutes were spent waiting.
    assert propagation.PATIENCE_S <= sum(slept) <= propagation.PATIENCE_S + 15
    assert len(slept) < 60


@pytest.mark.parametrize("calls, expected", [
    (["stream", "function", "mapping"], ["stream", "meanwhile", "function", "mapping"]),
    (["stream", "tables"], ["stream", "tables", "meanwhile"]),
    ([], ["meanwhile"]),
])
def test_the_work_given_to_do_meanwhile_runs_once_before_the_first_call_that_may_wait_for_a_role(calls, expected):
    from hello_winners.deploy import executor

    done = []

    class Service:
        def __getattr__(self, method):
            return lambda **params: done.append(method)

    plan = [planner.Call("svc", name, {}, f"make the {name}", names_role=name in ("function", "mapping"))
            for name in calls]
    executor.execute({"svc": Service()}, plan, sleep=pytest.fail, report=lambda line: None,
                     meanwhile=lambda: done.append("meanwhile"))
    assert done == expected


def test_only_lambda_saying_it_cannot_use_the_role_is_retried():
    from botocore.stub import Stubber

    from hello_winners.deploy import executor
    from hello_winners.errors import DeployError

    lam = deploy.clients()["lambda"]
    call = planner.Call("lambda", "create_function", {
        "FunctionName": "f", "Runtime": "python3.12", "Role": "arn:aws:iam::000000000000:role/r",
        "Handler": "h.handler", "Code": {"ZipFile": b"zip"}}, "create the function f", names_role=True)
    with Stubber(lam) as stub:
        stub.add_client_error("create_function", "InvalidParameterValueException", "Unsupported runtime")
        with pytest.raises(DeployError, match="Unsupported runtime"):
            executor.execute({"lambda": lam}, [call], sleep=pytest.fail, report=lambda line: None)


def test_status_lists_the_stage_and_its_standing_cost(stage):
    import subprocess
    import sys

    deploy.deploy(stage=stage.stage, report=lambda line: None)
    shown = subprocess.run([sys.executable, "-m", "hello_winners", "status", "--stage", stage.stage],
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert f"stage {stage.stage} on embedded: 11 resources" in shown.stdout
    assert f"stream                {stage.prefix}retail-stream" in shown.stdout
    assert "standing cost: $0.72 a day" in shown.stdout  # 2 shards x 24 h x $0.015 per shard-hour
    # Only this stage's shards, though the suite's runtime also polls other stages' streams.
    runtime_shards = [line for line in shown.stdout.splitlines() if line.startswith("  local runtime: shardId")]
    assert len(runtime_shards) <= 2
