"""The embedded AWS is closed by default and enforces IAM, as AWS does: real HTTP, real signatures."""

import datetime
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import boto3
import botocore
import pytest
from botocore.config import Config

from hello_winners import deploy, embedded, naming, targets
from hello_winners.deploy import models, room, teardown
from hello_winners.embedded import credentials, runtime

from signed import Identity, json_call, query_call, send

# What a call to each service the kit uses looks like: (service, operation, parameters), all harmless reads.
READS = [
    ("kinesis", "list_streams", {}),
    ("dynamodb", "list_tables", {}),
    ("lambda", "list_functions", {}),
    ("iam", "list_roles", {}),
    ("sts", "get_caller_identity", {}),
    ("logs", "describe_log_groups", {}),
    ("apigatewayv2", "get_apis", {}),
]


def client(service, endpoint, **keys):
    return boto3.client(service, endpoint_url=endpoint, region_name=embedded.REGION, **keys)


def refused_code(call):
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        call()
    return refused.value.response["Error"]["Code"]


@pytest.mark.parametrize("service, operation, params", READS)
def test_unsigned_requests_are_refused_by_every_service_the_kit_uses(embedded_server, service, operation, params):
    unsigned = boto3.client(service, endpoint_url=embedded_server.endpoint, region_name=embedded.REGION,
                            config=Config(signature_version=botocore.UNSIGNED))
    assert refused_code(lambda: getattr(unsigned, operation)(**params)) in (
        "MissingAuthenticationTokenException", "MissingAuthenticationToken")


# Services the kit does not serve, one of each protocol botocore speaks: rest-xml, query, json, ec2.
UNSERVED = [("s3", "list_buckets"), ("sns", "list_topics"), ("secretsmanager", "list_secrets"),
            ("ec2", "describe_regions")]


@pytest.mark.parametrize("service, operation", UNSERVED)
def test_a_service_the_kit_does_not_serve_is_refused_with_a_sentence_naming_those_it_does(embedded_server, service,
                                                                                            operation):
    """`aws s3 ls` after `eval "$(hello-winners server env)"` said only '403 Forbidden'."""
    participant = credentials.keys(credentials.PARTICIPANT)
    signed = client(service, embedded_server.endpoint, **vars(participant))
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        getattr(signed, operation)()
    error = refused.value.response["Error"]
    assert error["Code"] == "NotServed", error
    assert error["Message"].startswith(f"the embedded AWS does not serve {service}: it serves only "), error
    for served in ("API Gateway", "CloudWatch Logs", "DynamoDB", "IAM", "Kinesis", "Lambda", "STS"):
        assert served in error["Message"], error


@pytest.mark.parametrize("service, operation, params", READS)
def test_requests_signed_with_other_keys_are_refused(embedded_server, participant_keys, service, operation, params):
    stranger = client(service, embedded_server.endpoint, aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                      aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    assert refused_code(lambda: getattr(stranger, operation)(**params)) in (
        "UnrecognizedClientException", "InvalidClientTokenId")
    for keys in (participant_keys, credentials.keys(credentials.KIT)):
        forged = client(service, embedded_server.endpoint, aws_access_key_id=keys.aws_access_key_id,
                        aws_secret_access_key="x" * 40)
        assert refused_code(lambda forged=forged: getattr(forged, operation)(**params)) in (
            "InvalidSignatureException", "SignatureDoesNotMatch")
    # The seed of the participants' keys is no identity of its own.
    seed = credentials.keys(credentials.PARTICIPANT)
    assert refused_code(lambda: getattr(client(service, embedded_server.endpoint, **vars(seed)), operation)(**params)) in (
        "UnrecognizedClientException", "InvalidClientTokenId")


def test_no_web_origin_gets_a_cors_grant(embedded_server):
    preflight = urllib.request.Request(
        embedded_server.endpoint + "/2015-03-31/functions/hw-test-winner-api/configuration", method="OPTIONS",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "PUT",
                 "Access-Control-Request-Headers": "authorization,content-type"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(preflight, timeout=10)
    assert refused.value.code == 403
    assert not [h for h in refused.value.headers if h.lower().startswith("access-control-")]
    # A signed call that carries an Origin (as a page's script would) gets no grant either.
    kinesis = targets.client("kinesis", "embedded")
    seen = {}
    kinesis.meta.events.register("before-send.kinesis.*", lambda request, **_: request.headers.__setitem__(
        "Origin", "http://evil.example"))
    kinesis.meta.events.register("after-call.kinesis.*", lambda http_response, **_: seen.update(http_response.headers))
    kinesis.list_streams()
    assert not [h for h in seen if h.lower().startswith("access-control-")]


def test_the_reported_reconfiguration_of_a_deployed_function_runs_nothing(embedded_server, tmp_path):
    stage = targets.settings(stage="strictrepro")
    outputs = deploy.deploy(stage=stage.stage, report=lambda line: None)
    try:
        api = outputs.functions["api"]
        pwned = tmp_path / "pwned.txt"
        body = json.dumps({"Environment": {"Variables": {
            "PYTHONWARNINGS": "all:0:antigravity.x:0:0", "BROWSER": f'/bin/sh -c "id > {pwned}" #%s'}}}).encode()
        attack = urllib.request.Request(
            f"{embedded_server.endpoint}/2015-03-31/functions/{api}/configuration", data=body, method="PUT",
            headers={"Authorization": "anything", "Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(attack, timeout=10)
        assert refused.value.code == 403
        variables = targets.client("lambda", "embedded", stage.stage).get_function_configuration(
            FunctionName=api)["Environment"]
        assert "BROWSER" not in variables.get("Variables", {})
        with urllib.request.urlopen(outputs.api_url.rstrip("/") + "/winners", timeout=30) as answer:
            assert answer.status == 200
        assert not pwned.exists()
    finally:
        teardown.teardown(deploy.clients(stage=stage.stage), stage.prefix, stage.stage, report=lambda line: None)


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/moto-api/reset", b""),
    ("POST", "/moto-api/reset-auth", b"inf"),
    ("GET", "/moto-api/data.json", None),
    ("POST", "/moto-api/seed?a=42", b""),
    ("POST", "/moto-api/config", b'{"batch": {"use_docker": true}}'),
    ("GET", "/moto-api/", None),
    ("POST", "/%6Doto-api/reset", b""),  # percent-encoded: the HTTP server hands the path on decoded
])
def test_motos_control_routes_answer_nobody(embedded_server, method, path, body):
    kinesis = targets.client("kinesis", "embedded", "control")
    kinesis.create_stream(StreamName="hw-control-retail-stream", ShardCount=1)
    try:
        request = urllib.request.Request(embedded_server.endpoint + path, data=body, method=method)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403
        assert "hw-control-retail-stream" in kinesis.list_streams()["StreamNames"]  # nothing was reset
        assert embedded.answers(embedded_server.endpoint)  # the read-only health check stays open
    finally:
        kinesis.delete_stream(StreamName="hw-control-retail-stream")


def test_the_participant_may_do_only_what_the_room_policy_allows(embedded_server):
    kinesis = targets.client("kinesis", "embedded")
    assert refused_code(lambda: kinesis.create_stream(StreamName="not-the-kits", ShardCount=1)) == "AccessDeniedException"
    assert refused_code(lambda: kinesis.create_stream(StreamName="hw-someone-else-retail-stream", ShardCount=1)) == (
        "AccessDeniedException")
    iam = targets.client("iam", "embedded")
    assert refused_code(lambda: iam.create_user(UserName="someone")) == "AccessDenied"


def test_each_participant_is_a_room_user_holding_only_the_policy_hello_winners_policy_prints(embedded_server, instructor):
    """The embedded AWS is a room: the stage's participant is the user room-account would make, in its group."""
    account = targets.client("sts", "embedded").get_caller_identity()["Account"]
    printed = subprocess.run([sys.executable, "-m", "hello_winners", "policy", "--region", embedded.REGION,
                              "--account", account], capture_output=True, text=True, timeout=60, check=True).stdout
    iam = instructor("iam")
    assert iam.list_user_policies(UserName="test")["PolicyNames"] == []
    assert iam.list_attached_user_policies(UserName="test")["AttachedPolicies"] == []
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="test")["Groups"]] == [room.GROUP]
    assert iam.list_group_policies(GroupName=room.GROUP)["PolicyNames"] == []
    (attached,) = iam.list_attached_group_policies(GroupName=room.GROUP)["AttachedPolicies"]
    version = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]["DefaultVersionId"]
    held = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=version)["PolicyVersion"]["Document"]
    assert (json.loads(held) if isinstance(held, str) else held) == json.loads(printed)
    assert {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName="test")["Tags"]} == {naming.STAGE_TAG: "test"}
    # play's stage is its participant's: no user of its own.
    targets.client("sts", "embedded", "test-play").get_caller_identity()
    assert room.existing_participants(iam).count("test-play") == 0


def test_server_env_lets_other_tools_act_as_the_participant(embedded_server, tmp_path):
    printed = subprocess.run([sys.executable, "-m", "hello_winners", "server", "env"],
                             capture_output=True, text=True, timeout=60, check=True).stdout
    exported = dict(line.removeprefix("export ").split("=", 1) for line in printed.splitlines())
    assert set(exported) >= {"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    (tmp_path / "env").write_text(printed)
    # A shell with no AWS settings of its own: what it knows of the embedded AWS comes from the exports alone.
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HELLO_WINNERS_"))}
    script = "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])"
    shell = subprocess.run(["sh", "-c", f'eval "$(cat env)" && "{sys.executable}" -c "{script}"'], cwd=tmp_path,
                           capture_output=True, text=True, timeout=60, env=environment)
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.strip().endswith(":user/hello-winners/test")


def test_keys_are_random_per_state_folder_and_readable_by_their_owner_only(private_state, tmp_path_factory, monkeypatch):
    first = credentials.keys(credentials.PARTICIPANT)
    assert oct(credentials.path().stat().st_mode & 0o777) == "0o600"
    assert credentials.keys(credentials.PARTICIPANT) == first  # kept, not remade
    monkeypatch.setenv(embedded.STATE_DIR_ENV, str(tmp_path_factory.mktemp("other-state")))
    other = credentials.keys(credentials.PARTICIPANT)
    assert other.aws_access_key_id != first.aws_access_key_id
    assert other.aws_secret_access_key != first.aws_secret_access_key
    assert first.aws_secret_access_key not in repr(first)
    # Each participant's keys are derived from this folder's: the same every time, another for another name.
    alice = credentials.participant_keys("alice")
    assert alice == credentials.participant_keys("alice") != credentials.participant_keys("bob")
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", alice.aws_access_key_id) and len(alice.aws_secret_access_key) == 40
    monkeypatch.setenv(embedded.STATE_DIR_ENV, str(private_state))
    assert credentials.participant_keys("alice") != alice


def test_a_new_role_is_assumable_by_lambda_only_after_its_propagation_delay(embedded_server):
    stage = targets.settings(stage="strictdelay")
    clients = deploy.clients(stage=stage.stage)
    names = deploy.stage_names(stage, clients)
    role = clients["iam"].create_role(RoleName=names.role("api"), AssumeRolePolicyDocument=json.dumps(models.LAMBDA_TRUST),
                                      PermissionsBoundary=names.boundary_arn,
                                      Tags=[{"Key": k, "Value": v} for k, v in stage.tags.items()])["Role"]["Arn"]
    create = lambda: clients["lambda"].create_function(  # noqa: E731
        FunctionName=names.function("api"), Runtime=models.RUNTIME, Role=role, Handler="x.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18}, Tags=stage.tags)
    try:
        with pytest.raises(botocore.exceptions.ClientError, match="cannot be assumed by Lambda"):
            create()
        heard = []
        deploy.until_role_ready(create, report=heard.append)
        assert heard, "the first retry should have waited for the role"
    finally:
        teardown.teardown(clients, stage.prefix, stage.stage, report=lambda line: None)


def test_with_enforcement_off_policies_are_not_checked_but_requests_stay_signed(private_state, monkeypatch):
    monkeypatch.setenv("HELLO_WINNERS_IAM", "off")
    server = embedded.ensure_running()
    kinesis = targets.get("embedded").client("kinesis")
    kinesis.create_stream(StreamName="not-the-kits", ShardCount=1)  # no policy allows it: none is checked
    unsigned = boto3.client("kinesis", endpoint_url=server.endpoint, region_name=embedded.REGION,
                            config=Config(signature_version=botocore.UNSIGNED))
    assert refused_code(unsigned.list_streams) == "MissingAuthenticationTokenException"


def test_the_local_runtime_acts_only_for_the_kit(embedded_server):
    url = runtime.ensure_running().url
    for shown in ({}, {"Authorization": "Bearer guess"}):
        for method, path in (("POST", "/sync"), ("GET", "/status")):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(urllib.request.Request(url + path, data=b"" if method == "POST" else None,
                                                              method=method, headers=shown), timeout=30)
            assert refused.value.code == 403
    assert "shards" in runtime.sync()  # the kit itself still may


def test_a_signature_more_than_15_minutes_from_the_clock_is_refused(embedded_server, participant_keys):
    participant = Identity.of("participant", participant_keys)
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)  # naive UTC, as botocore signs with
    for when in (datetime.datetime(2015, 1, 1), now + datetime.timedelta(minutes=20)):
        answer = json_call(embedded_server.endpoint, participant, "kinesis", "ListStreams", {}, when=when)
        assert (answer.status, answer.code) == (403, "InvalidSignatureException"), answer
        assert b"15 min" in answer.body
        query = query_call(embedded_server.endpoint, participant, "iam", [("Action", "ListRoles"),
                                                                          ("Version", "2010-05-08")], when=when)
        assert (query.status, query.code) == (403, "SignatureDoesNotMatch"), query
    recent = now - datetime.timedelta(minutes=10)
    assert json_call(embedded_server.endpoint, participant, "kinesis", "ListStreams", {}, when=recent).status == 200


def test_an_unknown_region_is_refused_in_one_sentence(embedded_server, participant_keys):
    participant = Identity.of("participant", participant_keys)
    answer = json_call(embedded_server.endpoint, participant, "kinesis", "ListStreams", {}, region="zz-evil-9")
    assert answer.status == 403 and answer.code == "InvalidSignatureException", answer
    assert b"zz-evil-9" in answer.body


@pytest.mark.parametrize("identity", ["participant", credentials.KIT])
def test_a_signed_request_for_motos_reset_is_refused_and_resets_nothing(embedded_server, participant_keys, identity):
    kinesis = targets.client("kinesis", "embedded", "reset")
    kinesis.create_stream(StreamName="hw-reset-retail-stream", ShardCount=1)
    try:
        signer = Identity.of(identity, participant_keys if identity == "participant" else credentials.keys(identity))
        for path in ("//moto-api/reset", "/./moto-api/reset", "/x/../moto-api/reset"):
            answer = send(embedded_server.endpoint, signer, "kinesis", "POST", path, body=b"")
            assert answer.status == 403 and answer.body, answer
        assert "hw-reset-retail-stream" in kinesis.list_streams()["StreamNames"]
    finally:
        kinesis.delete_stream(StreamName="hw-reset-retail-stream")


def test_credentials_for_a_role_that_does_not_exist_cannot_be_obtained(embedded_server, instructor):
    sts = instructor("sts")
    account = sts.get_caller_identity()["Account"]
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/hw-nobody-winner-api-role", RoleSessionName="probe")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    # A role deleted after its credentials were granted: its calls are refused, never a 500.
    iam = instructor("iam")
    iam.create_role(RoleName="hw-gone-winner-api-role", AssumeRolePolicyDocument=json.dumps(models.LAMBDA_TRUST))
    deadline = time.monotonic() + 30
    while True:
        try:
            granted = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/hw-gone-winner-api-role",
                                      RoleSessionName="probe")["Credentials"]
            break
        except botocore.exceptions.ClientError:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    iam.delete_role(RoleName="hw-gone-winner-api-role")
    gone = Identity("gone", granted["AccessKeyId"], granted["SecretAccessKey"], granted["SessionToken"])
    answer = json_call(embedded_server.endpoint, gone, "kinesis", "ListStreams", {})
    assert answer.status == 403 and answer.code, answer


def stalled_request(endpoint, keys):
    """A connection that sends a signed request's headers and one byte of its 1,000-byte body, then stalls."""
    import socket

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest("POST", endpoint + "/", data=b"{" + b" " * 999, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202.ListStreams"})
    SigV4Auth(Credentials(*keys), "kinesis", embedded.REGION).add_auth(request)
    connection = socket.create_connection(("127.0.0.1", int(endpoint.rpartition(":")[2])))
    head = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in request.headers.items()) + "\r\n"
    connection.sendall(head.encode() + b"{")
    return connection


def test_a_stalled_client_holds_up_no_one_and_an_unknown_key_is_refused_before_its_body(embedded_server,
                                                                                        participant_keys):
    participant = participant_keys
    stranger = stalled_request(embedded_server.endpoint, ("AKIAIOSFODNN7EXAMPLE", "x" * 40))
    holder = stalled_request(embedded_server.endpoint, (participant.aws_access_key_id, participant.aws_secret_access_key))
    try:
        stranger.settimeout(60)
        assert stranger.recv(64).startswith(b"HTTP/1.1 403")  # refused with 999 bytes of its body never sent
        kinesis = boto3.client("kinesis", endpoint_url=embedded_server.endpoint, region_name=embedded.REGION,
                               **vars(participant), config=Config(read_timeout=60, retries={"max_attempts": 1}))
        assert "StreamNames" in kinesis.list_streams()  # answered while the other client holds its request
        said = subprocess.run([sys.executable, "-m", "hello_winners", "server", "status"], capture_output=True,
                              text=True, timeout=120)
        assert said.returncode == 0 and str(embedded_server.pid) in said.stdout and "does not answer" not in said.stdout
    finally:
        stranger.close()
        holder.close()
    assert embedded.find() == embedded_server


def test_a_stage_in_a_participants_namespace_is_that_participants(embedded_server, instructor):
    """On the embedded AWS as in a room: alice's namespace, hw-alice-*, holds alice-2, so alice works there."""
    targets.client("sts", "embedded", "nsalice").get_caller_identity()
    arn = targets.client("sts", "embedded", "nsalice-2").get_caller_identity()["Arn"]
    assert arn.endswith(":user/hello-winners/nsalice")
    assert "nsalice-2" not in room.existing_participants(instructor("iam"))
