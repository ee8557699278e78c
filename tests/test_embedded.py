"""The embedded AWS: a real moto server process, found and reused across processes, replaced when stale."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import psutil
import pytest

from hello_winners import embedded, targets
from hello_winners.errors import AwsUnreachableError, ConfigError, EmbeddedServerError


@pytest.fixture
def state(private_state):
    """Each test owns its server (conftest's private state folder)."""
    return private_state


def run_python(code, **env):
    """Run ``code`` in a fresh interpreter (a second kernel) and return what it prints."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


START = """
from hello_winners import embedded
server = embedded.ensure_running()
print(server.pid, server.endpoint)
"""


def test_a_server_started_by_one_process_outlives_it_and_is_reused_by_the_next(state):
    first = run_python(START)
    # The process that started it has exited; the server is still there for the next kernel.
    pid, endpoint = first.split()
    assert embedded.answers(endpoint)
    assert run_python(START) == first
    assert embedded.find().endpoint == endpoint


def test_a_second_start_while_running_does_not_start_another(state):
    spawned = []
    server = embedded.ensure_running(spawned=lambda: spawned.append("first"))
    again = embedded.ensure_running(spawned=lambda: spawned.append("again"))
    assert again == server
    assert spawned == ["first"]  # told of the new process only
    assert len(list(state.glob("moto-server*.json"))) == 1


def test_two_kernels_starting_at_once_share_one_server_and_see_the_same_stream(state):
    code = """
    import sys
    from hello_winners import targets
    kinesis = targets.client("kinesis")
    if sys.argv[1] == "create":
        kinesis.create_stream(StreamName="hw-test-retail-stream", ShardCount=1)
        kinesis.get_waiter("stream_exists").wait(StreamName="hw-test-retail-stream")
    print(targets.endpoint())
    """
    starters = [
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), "create" if n == 0 else "look"],
                         stdout=subprocess.PIPE, text=True)
        for n in range(2)
    ]
    endpoints = {p.communicate(timeout=120)[0].strip() for p in starters}
    assert all(p.returncode == 0 for p in starters)
    assert len(endpoints) == 1
    seen = run_python("""
    from hello_winners import targets
    print(targets.client("kinesis").list_streams()["StreamNames"])
    """)
    assert seen == "['hw-test-retail-stream']"


def test_a_stale_record_is_not_trusted_and_a_fresh_start_replaces_it(state):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (state / "moto-server.json").write_text(json.dumps({"pid": dead.pid, "port": dead_port, "started": 0.0}))
    assert embedded.find() is None
    with pytest.raises(EmbeddedServerError, match="has stopped"):
        embedded.ensure_running()
    server = embedded.start()
    assert server.pid != dead.pid and embedded.answers(server.endpoint)
    assert embedded.ensure_running() == server


def unrelated_group_leader():
    """A process of someone else's that leads its own process group, as a recycled pid might be."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)


def test_stop_never_signals_a_process_that_is_not_the_kits_and_still_stops_the_server(state):
    server = embedded.ensure_running()
    record = json.loads((state / "moto-server.json").read_text())
    stranger = unrelated_group_leader()
    try:
        (state / "moto-server.json").write_text(json.dumps({**record, "pid": stranger.pid}))
        assert embedded.stop() == server
        assert stranger.poll() is None
        assert not embedded.answers(server.endpoint)
    finally:
        stranger.kill()
        stranger.wait()


@pytest.mark.parametrize("garbage", ["{not json", "[]", '{"pid": "abc", "port": 1, "started": 0}', ""])
def test_a_garbled_record_never_starts_a_second_server_beside_the_first(state, garbage):
    server = embedded.ensure_running()
    (state / "moto-server.json").write_text(garbage)
    assert embedded.ensure_running() == server
    assert json.loads((state / "moto-server.json").read_text())["pid"] == server.pid


def test_a_record_of_a_dead_process_does_not_orphan_the_running_server(state):
    server = embedded.ensure_running()
    record = json.loads((state / "moto-server.json").read_text())
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (state / "moto-server.json").write_text(json.dumps({**record, "pid": dead.pid}))
    assert embedded.find() == server
    assert embedded.ensure_running() == server
    assert embedded.status()["running"]


def test_a_server_that_died_is_said_in_one_sentence_and_status_starts_no_empty_one(state):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "hello_winners", *args], capture_output=True, text=True,
                              timeout=120, env={**os.environ, embedded.STATE_DIR_ENV: str(state)})

    server = embedded.ensure_running()
    psutil.Process(server.pid).kill()
    psutil.Process(server.pid).wait(timeout=30)
    said = cli("status")
    assert said.returncode == 1 and "nothing deployed" not in said.stdout
    assert said.stderr.count("\n") == 1 and "Traceback" not in said.stderr
    assert said.stderr == (f"hello-winners: the embedded AWS at {server.endpoint} has stopped, and everything "
                           "deployed on it went with it (moto keeps it in memory): run `hello-winners server start` "
                           "for a fresh one, then deploy again\n")
    assert embedded.find() is None  # status started nothing
    with pytest.raises(EmbeddedServerError, match="has stopped"):
        targets.client("kinesis")
    status = cli("server", "status")
    assert status.returncode == 3 and "has stopped" in status.stdout
    started = cli("server", "start")
    assert started.returncode == 0, started.stderr
    assert embedded.ensure_running().endpoint in started.stdout


def test_a_record_of_a_live_process_that_is_not_a_moto_server_is_stale(state):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (state / "moto-server.json").write_text(json.dumps({"pid": os.getpid(), "port": port, "started": 0.0}))
    assert embedded.find() is None
    assert not (state / "moto-server.json").exists()


def test_a_corrupt_record_is_replaced(state):
    (state / "moto-server.json").write_text("{not json")
    assert embedded.ensure_running().endpoint.startswith("http://127.0.0.1:")


def test_stop_stops_the_server_and_forgets_it(state):
    server = embedded.ensure_running()
    assert embedded.stop() == server
    assert not embedded.answers(server.endpoint)
    assert embedded.find() is None
    assert embedded.stop() is None


def test_the_cli_starts_reports_and_stops_the_server(state):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "hello_winners", *args], capture_output=True, text=True, timeout=120)

    assert cli("server", "status").returncode == 3
    started = cli("server", "start")
    assert started.returncode == 0 and "running at http://127.0.0.1:" in started.stdout
    status = cli("server", "status")
    assert status.returncode == 0 and embedded.find().endpoint in status.stdout
    assert "stopped" in cli("server", "stop").stdout
    assert embedded.find() is None


def test_a_stream_and_a_table_work_through_the_kits_clients(state):
    kinesis = targets.client("kinesis")
    kinesis.create_stream(StreamName="hw-test-retail-stream", ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName="hw-test-retail-stream")
    kinesis.put_record(StreamName="hw-test-retail-stream", Data=b'{"hello": "retail"}', PartitionKey="p1")
    shard = kinesis.list_shards(StreamName="hw-test-retail-stream")["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName="hw-test-retail-stream", ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert [r["Data"] for r in records] == [b'{"hello": "retail"}']

    dynamodb = targets.client("dynamodb")
    dynamodb.create_table(
        TableName="hw-test-scores",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_item(TableName="hw-test-scores", Key={"k": {"S": "a"}}, UpdateExpression="ADD n :one",
                         ExpressionAttributeValues={":one": {"N": "1"}})
    assert dynamodb.get_item(TableName="hw-test-scores", Key={"k": {"S": "a"}})["Item"]["n"] == {"N": "1"}


def test_connections_that_send_nothing_do_not_keep_the_server_from_answering(state):
    """Silent connections (a browser's preconnects, a stuck tool) hold no thread of moto's and are closed after a
    while, so the server answers the kit meanwhile and never looks gone to it."""
    host, port = embedded.ensure_running().endpoint.removeprefix("http://").split(":")
    silent = [socket.create_connection((host, int(port)), timeout=60) for _ in range(300)]
    try:
        assert targets.client("sts").get_caller_identity()["Arn"].endswith("user/hello-winners/test")
        assert silent[0].recv(1) == b""  # closed by the server, not held open for ever
    finally:
        for connection in silent:
            connection.close()


def test_a_variable_of_the_servers_environment_named_like_a_header_is_not_read_as_one(state, monkeypatch):
    """The HTTP server starts each request's WSGI environ from the process environment; moto reads it for headers."""
    monkeypatch.setenv("HTTP_X_AMZ_SECURITY_TOKEN", "not-a-token-of-this-server")
    assert targets.client("sts").get_caller_identity()["Arn"].endswith("user/hello-winners/test")


def test_a_name_that_boto3_percent_encodes_in_the_path_is_signed_and_routed_as_sent(state):
    """An ARN's colons and a qualifier's dollar: the server sees the path decoded and must check what was signed."""
    account = targets.client("sts").get_caller_identity()["Account"]
    lambda_ = targets.client("lambda")
    with pytest.raises(lambda_.exceptions.ResourceNotFoundException, match="hw-test-winner-consumer"):
        lambda_.get_function(FunctionName=f"arn:aws:lambda:us-east-1:{account}:function:hw-test-winner-consumer",
                             Qualifier="$LATEST")


def test_the_real_aws_target_leaves_the_endpoint_to_boto3(state, monkeypatch):
    monkeypatch.setenv(targets.TARGET_ENV, "aws")
    kinesis = targets.client("kinesis")
    assert kinesis.meta.endpoint_url == "https://kinesis.us-east-1.amazonaws.com"
    assert targets.endpoint() is None
    assert embedded.find() is None  # choosing AWS never starts the embedded server


def test_an_unknown_target_says_which_targets_exist(monkeypatch):
    monkeypatch.setenv(targets.TARGET_ENV, "azure")
    with pytest.raises(ConfigError, match="unknown target 'azure': use 'embedded'.*or 'aws'"):
        targets.client("kinesis")


def test_a_port_in_use_is_refused_with_what_to_do(state, monkeypatch):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        monkeypatch.setenv(embedded.PORT_ENV, str(busy.getsockname()[1]))
        with pytest.raises(ConfigError, match="is in use by another program: set HELLO_WINNERS_PORT"):
            embedded.ensure_running()


def test_an_unreachable_endpoint_is_one_clear_sentence(state, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(embedded.ENDPOINT_ENV, f"http://127.0.0.1:{port}")
    with pytest.raises(AwsUnreachableError, match=f"nothing answers as a moto server at http://127.0.0.1:{port}"):
        targets.client("dynamodb")


def test_a_server_that_died_under_a_client_is_reported_clearly(state):
    kinesis = targets.client("kinesis")
    embedded.stop()
    with pytest.raises(AwsUnreachableError, match="cannot reach http://127.0.0.1"):
        with targets.friendly_errors():
            kinesis.list_streams()


def test_the_cli_answers_a_bad_setting_with_one_sentence_not_a_traceback():
    result = subprocess.run([sys.executable, "-m", "hello_winners", "status", "--target", "azure"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("hello-winners: unknown target 'azure': use 'embedded'")


def test_the_target_chosen_once_holds_for_later_kernels_until_overridden(state, monkeypatch):
    monkeypatch.delenv(targets.TARGET_ENV, raising=False)
    assert targets.settings().target == "embedded"
    targets.choose_target("aws")
    assert run_python("from hello_winners import targets; print(targets.settings().target)") == "aws"
    assert targets.settings("embedded").target == "embedded"  # an explicit flag still wins
    monkeypatch.setenv(targets.TARGET_ENV, "embedded")
    assert targets.settings().target == "embedded"  # and so does the environment variable
    with pytest.raises(ConfigError, match="unknown target 'gcp'"):
        targets.choose_target("gcp")


def test_a_server_that_answers_slowly_is_never_stopped_by_a_kit_command(state):
    server = embedded.ensure_running()
    family = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
    for process in family:
        process.suspend()  # it answers nothing now, as when a client holds its worker
    try:
        said = subprocess.run([sys.executable, "-m", "hello_winners", "server", "status"], capture_output=True,
                              text=True, timeout=120, env={**os.environ, embedded.STATE_DIR_ENV: str(state)})
        assert said.returncode == 0 and "does not answer right now" in said.stdout, said
        assert embedded.find() == server
    finally:
        for process in family:
            process.resume()
    assert all(process.is_running() for process in family)
    assert embedded.answers(server.endpoint, timeout=30) and embedded.ensure_running() == server


def test_a_record_that_copies_another_process_is_never_trusted(state):
    stranger = subprocess.Popen(["sleep", "120"])
    try:
        process = psutil.Process(stranger.pid)
        (state / "moto-server.json").write_text(json.dumps({"pid": stranger.pid, "port": 1, "started": process.create_time(),
                                                            "command": process.cmdline()}))
        assert embedded.stop() is None
        forged = [sys.executable, "-m", "hello_winners.embedded.moto_server"]  # the kit's command, not its process
        (state / "moto-server.json").write_text(json.dumps({"pid": stranger.pid, "port": 1,
                                                            "started": process.create_time(), "command": forged}))
        assert embedded.stop() is None
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


def test_a_server_whose_process_retitles_itself_is_still_found_as_the_kits(state):
    """granian renames its process when setproctitle is installed (the test extras install it): the kit
    knows its server by the mark it gave it, so it finds it again instead of calling it stopped."""
    pytest.importorskip("setproctitle")
    server = embedded.ensure_running()
    shown = psutil.Process(server.pid).cmdline()
    assert "hello_winners.embedded.moto_server" not in " ".join(shown), shown  # retitled: granian's own name
    assert embedded.find() == server
    assert embedded.ensure_running() == server and embedded.status()["running"]
    assert embedded.stop() == server and not psutil.pid_exists(server.pid) or \
        psutil.Process(server.pid).status() == psutil.STATUS_ZOMBIE
