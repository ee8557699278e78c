"""The local Lambda runtime: functions run from their zips, shards polled as Lambda polls them."""

import concurrent.futures
import io
import socket
import json
import re
import textwrap
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import psutil
import pytest

from hello_winners import deploy, targets
from hello_winners.targets.state import state_dir
from hello_winners.embedded import runtime, server
from hello_winners.deploy import bundle, models, policies, teardown
from hello_winners.embedded.local_api import LocalApi
from hello_winners.embedded.runtime import service, spares
from hello_winners.embedded.runtime.checkpoints import Checkpoints
from hello_winners.embedded.runtime.functions import Config, Function, spare_workers
from hello_winners.embedded.runtime.pool import TooManyRequestsException
from hello_winners.embedded.runtime.service import api_answer

pytestmark = pytest.mark.usefixtures("embedded_server")
FIXED = (1980, 1, 1, 0, 0, 0)

# A handler that fails like a real one might: any batch holding the "poison" record raises, and the
# poison record alone is reported as a failed item twice before it goes through. Every invocation is
# written down so the test can see what Lambda (here, the runtime) did.
FLAKY = textwrap.dedent('''
    import base64, json, os

    def handler(event, context):
        records = [(r["kinesis"]["sequenceNumber"], base64.b64decode(r["kinesis"]["data"]).decode())
                   for r in event["Records"]]
        path = os.environ["INVOCATIONS"]
        seen = [json.loads(line) for line in open(path)] if os.path.exists(path) else []
        with open(path, "a") as log:
            log.write(json.dumps([data for _, data in records]) + "\\n")
        if any(data == "poison" for _, data in records):
            if len(records) > 1:
                raise RuntimeError("poison in the batch")
            if sum(1 for batch in seen if batch == ["poison"]) < 2:
                return {"batchItemFailures": [{"itemIdentifier": records[0][0]}]}
        if any(data == "slow" for _, data in records) and not os.path.exists(path + ".slow"):
            open(path + ".slow", "w").close()
            import time
            time.sleep(5)
        return {"batchItemFailures": []}
''')


_PUBLISHED = None  # set for the module by _published_here


@pytest.fixture(autouse=True, scope="module")
def _published_here(tmp_path_factory):
    """The zips :func:`published` writes go to pytest's temporary folder, which pytest cleans up."""
    global _PUBLISHED
    _PUBLISHED = tmp_path_factory.mktemp("published")


def published(code):
    """Where a deployed function's code can be fetched (its GetFunction Code.Location): a file, as the
    embedded server publishes it."""
    path = _PUBLISHED / f"{bundle.code_sha256(code).replace('/', '_')}.zip"
    path.write_bytes(code)
    return path.as_uri()


def zip_with(files, base=b""):
    """A zip holding ``base``'s entries plus ``files`` ({name: text})."""
    archive = io.BytesIO(base)
    with zipfile.ZipFile(archive, "a" if base else "w") as z:
        for name, text in files.items():
            z.writestr(zipfile.ZipInfo(name, date_time=FIXED), text)
    return archive.getvalue()


@pytest.fixture
def stage(request):
    settings = targets.settings(stage="rt" + re.sub(r"[^a-z0-9]", "", request.node.name.lower())[-10:])
    yield settings
    teardown.teardown(deploy.clients(stage=settings.stage), settings.prefix, settings.stage, report=lambda line: None)
    runtime.sync()


def mapped_function(stage, code, handler, environment, batch_size=10, timeout=3, retries=10, on_failure=False):
    """A one-shard stream mapped to a function of ``code``, as a participant would set it up with boto3:
    the stage's names, a role Lambda may assume that may read the stream, and the retry a new role needs;
    with ``on_failure``, the stage's queue as the mapping's on-failure destination, which the role may send to."""
    clients = deploy.clients(stage=stage.stage)
    names = deploy.stage_names(stage, clients)
    stream, function = names.stream, names.function("consumer")
    clients["kinesis"].create_stream(StreamName=stream, ShardCount=1)
    clients["kinesis"].add_tags_to_stream(StreamName=stream, Tags=stage.tags)
    role = clients["iam"].create_role(RoleName=names.role("consumer"),
                                      AssumeRolePolicyDocument=json.dumps(models.LAMBDA_TRUST),
                                      PermissionsBoundary=names.boundary_arn,
                                      Tags=[{"Key": k, "Value": v} for k, v in stage.tags.items()])["Role"]["Arn"]
    statements = [{"Effect": "Allow", "Action": list(policies.STREAM_READ), "Resource": [names.stream_arn]}]
    if on_failure:
        clients["sqs"].create_queue(QueueName=names.queue, tags=stage.tags)
        statements.append({"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [names.queue_arn]})
    clients["iam"].put_role_policy(RoleName=names.role("consumer"), PolicyName="read-the-stream", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    deploy.until_role_ready(lambda: clients["lambda"].create_function(
        FunctionName=function, Runtime="python3.12", Role=role, Handler=handler, Code={"ZipFile": code},
        Timeout=timeout, Environment={"Variables": environment}, Tags=stage.tags), report=lambda line: None)
    clients["lambda"].get_waiter("function_active_v2").wait(FunctionName=function)
    clients["kinesis"].get_waiter("stream_exists").wait(StreamName=stream)
    deploy.until_role_ready(lambda: clients["lambda"].create_event_source_mapping(
        FunctionName=function, EventSourceArn=names.stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=batch_size,
        MaximumBatchingWindowInSeconds=0, BisectBatchOnFunctionError=True, MaximumRetryAttempts=retries,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        **({"DestinationConfig": {"OnFailure": {"Destination": names.queue_arn}}} if on_failure else {})),
        report=lambda line: None)
    return clients["kinesis"], stream


def put(kinesis, stream, datas):
    kinesis.put_records(StreamName=stream, Records=[{"Data": d.encode(), "PartitionKey": "p"} for d in datas])


def invocations(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_failing_batch_is_bisected_then_retried_from_the_failed_item_until_it_goes_through(stage, tmp_path):
    log = tmp_path / "invocations.jsonl"
    kinesis, stream = mapped_function(stage, zip_with({"flaky.py": FLAKY}), "flaky.handler", {"INVOCATIONS": str(log)},
                                      batch_size=8)
    records = ["r0", "r1", "r2", "poison", "r4", "r5", "r6", "r7"]
    put(kinesis, stream, records)
    runtime.drain(timeout_s=120)
    calls = invocations(log)
    assert calls[0] == records                                   # the whole batch first: it raises
    assert calls[1] == records[:4]                               # bisected: the first half, still poisoned
    assert calls[2] == records[:2] and calls[3] == records[2:4]  # halves again: r0, r1 pass; then r2 + poison
    assert calls[4] == ["r2"]                                    # down to one record each
    assert calls[5:8] == [["poison"]] * 3                        # reported failed twice, then through
    assert calls[8:] == [records[4:]]                            # then the other half of the first split
    assert all(shard["discarded"] == 0 for shard in runtime.status()["shards"])


def test_a_timed_out_invocation_is_retried_and_the_worker_replaced(stage, tmp_path):
    log = tmp_path / "invocations.jsonl"
    kinesis, stream = mapped_function(stage, zip_with({"flaky.py": FLAKY}), "flaky.handler", {"INVOCATIONS": str(log)},
                                      batch_size=1, timeout=1)
    put(kinesis, stream, ["slow", "after"])
    runtime.drain(timeout_s=120)
    assert invocations(log) == [["slow"], ["slow"], ["after"]]
    assert any("Task timed out after 1.00 seconds" in line for line in runtime.status()["log"])


ALWAYS_FAILS = "def handler(event, context):\n    raise RuntimeError('this batch never goes through')\n"


def test_a_batch_that_keeps_failing_is_recorded_in_the_on_failure_queue_not_lost(stage, instructor, capsys):
    from hello_winners import cli

    kinesis, stream = mapped_function(stage, zip_with({"fails.py": ALWAYS_FAILS}), "fails.handler", {},
                                      batch_size=2, retries=1, on_failure=True)
    put(kinesis, stream, ["a", "b"])
    runtime.drain(timeout_s=120)
    names = deploy.stage_names(stage, deploy.clients(stage=stage.stage))
    assert cli.main(["status", "--stage", stage.stage]) == 0  # bisected, then given up on one record at a time
    assert f"failed batches: 2 recorded in {names.queue}" in capsys.readouterr().out
    sqs = instructor("sqs")
    url = sqs.get_queue_url(QueueName=names.queue)["QueueUrl"]
    records = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    assert {r["requestContext"]["condition"] for r in records} == {"RetryAttemptsExhausted"}
    assert {r["requestContext"]["functionArn"] for r in records} == {names.function_arn("consumer")}
    infos = sorted((r["KinesisBatchInfo"] for r in records), key=lambda info: info["startSequenceNumber"])
    assert [(i["shardId"], i["batchSize"], i["streamArn"]) for i in infos] == [
        ("shardId-000000000000", 1, names.stream_arn)] * 2
    assert all(i["startSequenceNumber"] == i["endSequenceNumber"] for i in infos)
    assert sum(shard["discarded"] for shard in runtime.status()["shards"] if shard["stream"] == stream) == 2
    # A destination the function's role may not send to is refused, as on AWS.
    lam = deploy.clients(stage=stage.stage)["lambda"]
    (mapping,) = lam.list_event_source_mappings(FunctionName=names.function("consumer"))["EventSourceMappings"]
    with pytest.raises(lam.exceptions.InvalidParameterValueException, match="SendMessage"):
        lam.update_event_source_mapping(UUID=mapping["UUID"], DestinationConfig={
            "OnFailure": {"Destination": names.queue_arn.replace("failed-batches", "elsewhere")}})


def test_a_restarted_runtime_resumes_from_its_checkpoints(stage, tmp_path):
    log = tmp_path / "invocations.jsonl"
    kinesis, stream = mapped_function(stage, zip_with({"flaky.py": FLAKY}), "flaky.handler", {"INVOCATIONS": str(log)})
    put(kinesis, stream, ["a", "b"])
    runtime.drain(timeout_s=120)
    runtime.stop()
    put(kinesis, stream, ["c"])
    runtime.drain(timeout_s=120)
    assert [data for batch in invocations(log) for data in batch] == ["a", "b", "c"]


def test_a_zip_without_a_module_the_handler_imports_fails_as_on_lambda(tmp_path):
    full = bundle.build(("hello_winners.view.consumer.handler",))
    with zipfile.ZipFile(io.BytesIO(full)) as source:
        kept = {name: source.read(name) for name in source.namelist() if not name.startswith("fastjsonschema/")}
    code = zip_with(kept)
    function = Function(Config("broken", "arn:aws:lambda:us-east-1:000000000000:function:broken",
                               "hello_winners.view.consumer.handler", 3, 128, bundle.code_sha256(code), (), code_location=published(code)), {})
    outcome = function.invoke({"Records": []})
    assert outcome.error["errorType"] == "Runtime.ImportModuleError"
    assert outcome.error["errorMessage"] == ("Unable to import module 'hello_winners.view.consumer': "
                                            "No module named 'fastjsonschema'")
    function.close()


def test_a_wrong_handler_name_fails_as_on_lambda():
    code = zip_with({"flaky.py": FLAKY})
    function = Function(Config("typo", "arn:aws:lambda:us-east-1:000000000000:function:typo", "flaky.handle", 3, 128,
                               bundle.code_sha256(code), (), code_location=published(code)), {})
    outcome = function.invoke({"Records": []})
    assert outcome.error == {"errorType": "Runtime.HandlerNotFound",
                             "errorMessage": "Handler 'handle' missing on module 'flaky'", "stackTrace": []}
    function.close()


def test_the_handler_sees_only_its_zip_and_the_runtimes_packages(tmp_path):
    probe = textwrap.dedent('''
        import importlib.util, os
        def handler(event, context):
            return {name: importlib.util.find_spec(name) is not None
                    for name in ("boto3", "botocore", "hello_winners", "pandas", "moto")} | {
                    "remaining_ms": context.get_remaining_time_in_millis(), "table": os.environ.get("TABLE")}
    ''')
    code = zip_with({"probe.py": probe})
    function = Function(Config("probe", "arn:aws:lambda:us-east-1:000000000000:function:probe", "probe.handler", 3, 128,
                               bundle.code_sha256(code), (("TABLE", "t1"),), code_location=published(code)), {})
    seen = function.invoke({}).result
    function.close()
    assert seen["boto3"] and seen["botocore"]
    assert not seen["hello_winners"] and not seen["pandas"] and not seen["moto"]
    assert 0 < seen["remaining_ms"] <= 3000 and seen["table"] == "t1"


# What a handler can tell of the process it runs in, for comparing a worker made from a spare with a fresh one.
WHERE_AM_I = textwrap.dedent('''
    import os, sys, time

    def handler(event, context):
        import boto3
        print("said by", os.getpid())
        return {"pid": os.getpid(), "environ": dict(os.environ), "cwd": os.getcwd(), "path": sys.path[:2],
                "argv": sys.argv[1:], "tz": list(time.tzname), "boto3": getattr(boto3, "MADE_BY", "the runtime"),
                "hash_randomization": sys.flags.hash_randomization}
''')


def probe(files, environment=(), spares=None):
    """Invoke a WHERE_AM_I function once, as a worker made from one of ``spares`` when one fits."""
    code = zip_with({"probe.py": WHERE_AM_I, **files})
    function = Function(Config("probe", "arn:aws:lambda:us-east-1:000000000000:function:probe", "probe.handler", 30,
                               128, bundle.code_sha256(code), environment, code_location=published(code)),
                        {"AWS_REGION": "us-east-1"}, spares=spares)
    try:
        outcome = function.invoke({})
        assert outcome.error is None, outcome.error
        return outcome.result, function.log_path.read_text()
    finally:
        function.close()


@pytest.fixture
def spare_pool():
    made = spare_workers(count=2)
    made.top_up()
    yield made
    made.close()


def spare_pids():
    return {child.pid for child in psutil.Process().children() if "--spare" in child.cmdline()}


def test_a_worker_made_from_a_spare_runs_the_function_as_a_fresh_worker_does(spare_pool):
    waiting = spare_pids()
    from_a_spare, its_log = probe({}, (("TABLE", "t1"),), spare_pool)
    fresh, fresh_log = probe({}, (("TABLE", "t1"),))
    assert from_a_spare["pid"] in waiting and spare_pool.ready == 1
    assert fresh["pid"] not in waiting
    assert from_a_spare["environ"]["TABLE"] == "t1"
    assert {key: value for key, value in from_a_spare.items() if key != "pid"} == {
        key: value for key, value in fresh.items() if key != "pid"}
    assert f"said by {from_a_spare['pid']}" in its_log and f"said by {fresh['pid']}" in fresh_log


def test_a_zip_with_its_own_boto3_gets_a_fresh_worker_and_imports_its_own(spare_pool):
    seen, _ = probe({"boto3/__init__.py": "MADE_BY = 'the zip'\n"}, spares=spare_pool)
    assert seen["boto3"] == "the zip" and spare_pool.ready == 2


def test_a_function_that_sets_a_variable_python_reads_at_startup_gets_a_fresh_worker(spare_pool):
    seen, _ = probe({}, (("PYTHONHASHSEED", "0"),), spare_pool)
    assert seen["hash_randomization"] == 0 and spare_pool.ready == 2


def test_drain_without_a_mapping_says_what_to_do(monkeypatch):
    monkeypatch.setattr(runtime, "sync", lambda: {"shards": []})
    with pytest.raises(runtime.DeployError, match="nothing consumes the stream: deploy first"):
        runtime.drain(timeout_s=1)


def test_waiting_for_a_stream_counts_its_own_records_not_every_stage_on_the_server(stage):
    """Lesson 3 said 'caught up: 4271 records' for a stream of 2,137: it summed play's stage too."""
    other = targets.settings(stage=stage.stage + "-other")
    code = zip_with({"handler.py": "def handler(event, context):\n    return {'batchItemFailures': []}\n"})
    try:
        kinesis, mine = mapped_function(stage, code, "handler.handler", {})
        _, theirs = mapped_function(other, code, "handler.handler", {})
        put(kinesis, mine, ["a", "b", "c"])
        put(kinesis, theirs, [str(n) for n in range(7)])
        runtime.drain(timeout_s=120)  # both consumed: what follows is only the count
        said = []
        targets.get().wait_until_consumed(deploy.clients(stage=stage.stage), mine, {}, report=said.append,
                                          timeout_s=120)
        (line,) = said
        assert re.fullmatch(f"the consumer caught up with {mine}: 3 records in (1 batch|[23] batches)", line), line
    finally:
        teardown.teardown(deploy.clients(stage=other.stage), other.prefix, other.stage, report=lambda line: None)


def test_a_consumer_role_without_batch_write_is_denied_offline_and_its_records_wait_for_the_fix(stage):
    """The rejects are written with BatchWriteItem: a role granting only PutItem on Rejects (the kit's old
    policy) fails as on AWS, the batch is retried, not lost, and goes through once the policy is fixed."""
    import time

    from hello_winners.view import tables

    deploy.deploy(stage=stage.stage, options=models.Options(shards=1, max_retry_attempts=-1), report=lambda line: None)
    clients = deploy.clients(stage=stage.stage)
    names = deploy.stage_names(stage, clients)
    role = names.role("consumer")
    granted = policies.consumer(names)
    only_put = json.loads(json.dumps(granted).replace('"dynamodb:BatchWriteItem"', '"dynamodb:PutItem"'))
    clients["iam"].put_role_policy(RoleName=role, PolicyName="consumer-access", PolicyDocument=json.dumps(only_put))
    clients["kinesis"].put_record(StreamName=names.stream, Data=b"not an event", PartitionKey="p-1")

    deadline = time.monotonic() + 60
    while not any(shard["retries"] for shard in runtime.sync()["shards"]):
        assert time.monotonic() < deadline, "the denied batch was never retried"
        time.sleep(0.5)
    log = Path(runtime.status()["functions"][names.function("consumer")]["log"]).read_text()
    assert "AccessDeniedException" in log and "dynamodb:BatchWriteItem" in log
    rejects = names.tables[tables.REJECTS]
    assert clients["dynamodb"].scan(TableName=rejects, ConsistentRead=True)["Count"] == 0

    clients["iam"].put_role_policy(RoleName=role, PolicyName="consumer-access", PolicyDocument=json.dumps(granted))
    runtime.drain(timeout_s=120)
    assert clients["dynamodb"].scan(TableName=rejects, ConsistentRead=True)["Count"] == 1
    assert all(shard["discarded"] == 0 for shard in runtime.status()["shards"])


WHO_AM_I = textwrap.dedent('''
    import json, os
    import boto3

    def handler(event, context):
        try:
            boto3.client("dynamodb").list_tables()
            denied = None
        except Exception as error:
            denied = error.response["Error"]["Code"]
        with open(os.environ["INVOCATIONS"], "a") as log:
            log.write(json.dumps({"arn": boto3.client("sts").get_caller_identity()["Arn"], "denied": denied}) + "\\n")
        return {"batchItemFailures": []}
''')


def test_a_function_runs_with_its_roles_temporary_credentials_and_is_held_to_its_policy(stage, tmp_path):
    log = tmp_path / "invocations.jsonl"
    kinesis, stream = mapped_function(stage, zip_with({"who.py": WHO_AM_I}), "who.handler", {"INVOCATIONS": str(log)})
    put(kinesis, stream, ["hello"])
    runtime.drain(timeout_s=120)
    seen = invocations(log)[0]
    role = deploy.stage_names(stage, deploy.clients(stage=stage.stage)).role("consumer")
    assert f":assumed-role/{role}/" in seen["arn"]   # the role's session, never the participant's keys
    assert seen["denied"] == "AccessDeniedException"  # its policy grants reading the stream, not listing tables


# A handler that says when its module was initialised, and which process serves each invocation.
INITIALISED = textwrap.dedent('''
    import json, os

    with open(os.environ["INVOCATIONS"], "a") as log:
        log.write(json.dumps({"init": os.getpid()}) + "\\n")

    def handler(event, context):
        with open(os.environ["INVOCATIONS"], "a") as log:
            log.write(json.dumps({"invoked": os.getpid()}) + "\\n")
        return {"batchItemFailures": []}
''')


def test_a_function_the_runtime_takes_on_is_initialised_before_its_first_event(stage, tmp_path):
    """As Lambda may pre-initialise an on-demand function: the first batch does not wait for the import."""
    log = tmp_path / "invocations.jsonl"
    kinesis, stream = mapped_function(stage, zip_with({"init.py": INITIALISED}), "init.handler",
                                      {"INVOCATIONS": str(log)})
    runtime.sync()
    wait_until(lambda: log.exists() and invocations(log), "the handler module initialised")
    assert invocations(log) == [{"init": invocations(log)[0]["init"]}]  # initialised, not invoked
    put(kinesis, stream, ["hello"])
    runtime.drain(timeout_s=120)
    assert invocations(log)[1:] == [{"invoked": invocations(log)[0]["init"]}]  # by the environment made ready


def test_the_runtime_keeps_spare_workers_and_ends_them_when_it_stops(stage):
    def workers_of_this_state_folder():  # spares, and the workers that spares became
        return [process for process in psutil.process_iter(["cmdline"])
                if "--spare" in (process.info["cmdline"] or []) and str(state_dir()) in " ".join(process.info["cmdline"])]

    runtime.ensure_running()
    wait_until(lambda: runtime.status()["spare_workers"] == spares.COUNT, "the spare workers started")
    assert len(workers_of_this_state_folder()) >= spares.COUNT
    runtime.stop()
    wait_until(lambda: not workers_of_this_state_folder(), "the spare workers ended with the runtime")


def test_spares_are_topped_up_only_once_every_shard_is_caught_up(stage, tmp_path):
    """Starting spares takes the CPU that the batches which just took them need: the runtime waits for them.

    Run in this process, one sync at a time, with the detached runtime stopped so that only it polls.
    """
    runtime.stop()
    kinesis, stream = mapped_function(stage, zip_with({"gated.py": GATED}), "gated.handler", {"GATE": str(tmp_path)},
                                      timeout=120)
    local = service.Runtime(server.endpoint())
    try:
        local.spares.top_up()
        # Asked, as a deploy asks: it takes the function on (one environment for its one shard, from a
        # spare) and tops nothing up, whereas a periodic sync would if the new poller had already read
        # the empty shard.
        local.sync(asked=True)
        assert local.spares.ready == spares.COUNT - 1
        put(kinesis, stream, ["held"])
        wait_until(lambda: started(tmp_path) == 1, "the batch running")
        local.sync()
        assert local.spares.ready == spares.COUNT - 1  # not while the batch runs
        (tmp_path / "open").touch()
        wait_until(lambda: all(p.caught_up and not p.in_flight for p in local.pollers.values()), "the shard read")
        local.sync()
        assert local.spares.ready == spares.COUNT
    finally:
        local.stop()


def test_a_mapping_made_by_hand_is_taken_on_without_telling_the_runtime_the_server_does(stage, tmp_path):
    """As on AWS, where the service that stores a mapping also runs it: a notebook's boto3 calls are enough."""
    runtime.ensure_running()
    asked = runtime.status()["syncs_asked"]
    log = tmp_path / "invocations.jsonl"
    _kinesis, stream = mapped_function(stage, zip_with({"init.py": INITIALISED}), "init.handler",
                                       {"INVOCATIONS": str(log)})  # boto3 only: nothing asks the runtime
    wait_until(lambda: any(s["stream"] == stream for s in runtime.status()["shards"]), "the new mapping polled")
    assert runtime.status()["syncs_asked"] > asked  # the server asked: no waiting for the periodic read


# A handler that holds its worker until the test opens the gate, so the test decides when workers are busy.
GATED = textwrap.dedent('''
    import os, time

    def handler(event, context):
        gate = os.environ["GATE"]
        open(os.path.join(gate, f"started-{os.getpid()}-{len(os.listdir(gate))}"), "w").close()
        while not os.path.exists(os.path.join(gate, "open")):
            time.sleep(0.02)
        return {"pid": os.getpid()}
''')


def gated_function(gate, reserved=None, **pool):
    code = zip_with({"gated.py": GATED})
    config = Config("gated", "arn:aws:lambda:us-east-1:000000000000:function:gated", "gated.handler", 120, 128,
                    bundle.code_sha256(code), (("GATE", str(gate)),), code_location=published(code),
                    reserved_concurrency=reserved)
    return Function(config, {}, **pool)


def wait_until(condition, what):
    """Poll ``condition`` (the workers are separate processes); fail with ``what`` if it never holds."""
    deadline = time.monotonic() + 120
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def started(gate):
    return len(list(gate.glob("started-*")))


def test_a_function_runs_at_most_its_concurrency_of_workers_and_throttles_who_will_not_wait(tmp_path):
    function = gated_function(tmp_path, default_concurrency=2)
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        calls = [pool.submit(function.invoke, {}) for _ in range(5)]
        wait_until(lambda: started(tmp_path) == 2, "two invocations running")
        assert function.workers.size == 2
        with pytest.raises(TooManyRequestsException, match="all 2 workers of the function are busy"):
            function.invoke({}, wait_s=0)
        (tmp_path / "open").touch()
        pids = {call.result().result["pid"] for call in calls}
    assert len(pids) == 2 and function.workers.size == 2
    assert (function.invocations, function.throttles) == (5, 1)
    function.close()


def test_reserved_concurrency_set_with_the_lambda_api_is_the_functions_limit(tmp_path):
    answer = {"Configuration": {"FunctionName": "f", "FunctionArn": "arn", "Handler": "m.h", "CodeSha256": "x"},
              "Concurrency": {"ReservedConcurrentExecutions": 3}}
    assert Config.from_api(answer).reserved_concurrency == 3
    assert gated_function(tmp_path, reserved=1, default_concurrency=4).workers.limit == 1
    assert gated_function(tmp_path, default_concurrency=4).workers.limit == 4


def test_idle_workers_are_reaped_after_the_configured_idle_time(tmp_path):
    now = [0.0]
    function = gated_function(tmp_path, idle_s=60, clock=lambda: now[0])
    (tmp_path / "open").touch()
    pid = function.invoke({}).result["pid"]
    assert function.invoke({}).result["pid"] == pid and function.workers.size == 1  # warm and reused
    now[0] = 59.0
    assert function.reap() == 0 and function.workers.size == 1
    now[0] = 60.0
    assert function.reap() == 1 and function.workers.size == 0
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert function.invoke({}).result["pid"] != pid  # a cold start
    function.close()


def test_the_local_api_answers_a_json_429_when_every_worker_stays_busy(tmp_path):
    function = gated_function(tmp_path, reserved=1)
    with LocalApi(lambda event: api_answer(function, event, wait_s=0)) as local, \
            concurrent.futures.ThreadPoolExecutor(1) as pool:
        first = pool.submit(urllib.request.urlopen, local.url + "/", timeout=120)
        wait_until(lambda: started(tmp_path) == 1, "the first request running")
        with pytest.raises(urllib.error.HTTPError) as throttled:
            urllib.request.urlopen(local.url + "/", timeout=120)
        (tmp_path / "open").touch()
        assert first.result().status == 200
    assert throttled.value.code == 429
    assert json.loads(throttled.value.read())["errorType"] == "TooManyRequestsException"
    function.close()


@pytest.mark.parametrize("garbage", ["abc", "9" * 56, 42], ids=["text", "no-such-record", "number"])
def test_an_unusable_checkpoint_is_said_and_the_shard_re_read_from_its_trim_horizon(stage, tmp_path, garbage):
    log = tmp_path / "invocations.jsonl"
    kinesis, stream = mapped_function(stage, zip_with({"flaky.py": FLAKY}), "flaky.handler", {"INVOCATIONS": str(log)})
    put(kinesis, stream, ["a", "b"])
    runtime.drain(timeout_s=120)
    runtime.stop()
    function = deploy.stage_names(stage, deploy.clients(stage=stage.stage)).function("consumer")
    mapping = deploy.clients(stage=stage.stage)["lambda"].list_event_source_mappings(FunctionName=function)
    uuid = mapping["EventSourceMappings"][0]["UUID"]
    path = state_dir() / "runtime" / "checkpoints.json"
    checkpoints = json.loads(path.read_text())
    (shard,) = checkpoints[uuid]
    path.write_text(json.dumps({**checkpoints, uuid: {shard: garbage}}))
    put(kinesis, stream, ["c"])
    state = runtime.drain(timeout_s=120)
    assert [data for batch in invocations(log) for data in batch] == ["a", "b", "a", "b", "c"]
    (reset,) = [s["checkpoint_reset"] for s in state["shards"] if s["mapping"] == uuid]
    assert reset.startswith(f"the checkpoint {str(garbage)!r} ") and reset.endswith("re-read from the trim horizon")
    assert any(reset in line for line in state["log"])


def test_a_garbled_checkpoints_file_is_said_and_read_as_empty(tmp_path):
    path = tmp_path / "checkpoints.json"
    said = []
    for garbage in ("{not json", "[1, 2]", '{"mapping": "not shards"}'):
        path.write_text(garbage)
        checkpoints = Checkpoints(path, said.append)
        assert checkpoints.get("mapping", "shard") is None
        assert checkpoints.problem.startswith(f"the checkpoints in {path} are not readable")
    assert said == [checkpoints.problem] * 3
    assert Checkpoints(tmp_path / "none.json", said.append).problem is None


def test_the_runtimes_http_api_refuses_abuse_with_json_and_keeps_serving(stage, tmp_path):
    (tmp_path / "open").touch()
    mapped_function(stage, zip_with({"gated.py": GATED}), "gated.handler", {"GATE": str(tmp_path)})
    clients = deploy.clients(stage=stage.stage)
    function = deploy.stage_names(stage, clients).function("consumer")
    arn = clients["lambda"].get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    api = clients["apigatewayv2"].create_api(Name=stage.prefix + "api", ProtocolType="HTTP", Target=arn,
                                             Tags=stage.tags)["ApiId"]
    url = runtime.api_url(api)
    host, port = url.removeprefix("http://").split(":")
    for request, status in [(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
                            (b"TRACE / HTTP/1.1\r\nHost: x\r\n\r\n", 405)]:
        with socket.create_connection((host, int(port)), timeout=60) as connection:
            connection.sendall(request)
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(f"HTTP/1.1 {status} ".encode()) and set(json.loads(body)) == {"message"}
    with urllib.request.urlopen(url + "/", timeout=60) as response:
        assert "pid" in json.load(response)
