"""The local HTTP endpoint: requests become API Gateway HTTP API events, answers become HTTP responses."""

import base64
import concurrent.futures
import http.client
import json
import socket
import threading
import time
import urllib.parse

import boto3
import moto
import pytest

from hello_winners.view import api, tables
from hello_winners.errors import ConfigError
from hello_winners.embedded.local_api import Limits, LocalApi, http_response
from flood import flood


class Recorder:
    """An invoke that keeps the events it receives and answers with a fixed response."""

    def __init__(self, answer=None):
        self.events = []
        self.answer = answer or {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "ok"}

    def __call__(self, event):
        self.events.append(event)
        return self.answer


def fetch(url, method="GET", path="/", body=None, headers=None):
    """(status, headers, body bytes) of one HTTP request."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def local(recorder):
    with LocalApi(recorder) as running:
        yield running


def test_a_request_becomes_an_http_api_payload_2_event(local, recorder):
    fetch(local.url, path="/scores?role=merchant&limit=5", headers={"X-Custom": "Yes", "Cookie": "a=1; b=2"})
    (event,) = recorder.events
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/scores" and event["rawQueryString"] == "role=merchant&limit=5"
    assert event["queryStringParameters"] == {"role": "merchant", "limit": "5"}
    assert event["headers"]["x-custom"] == "Yes" and "X-Custom" not in event["headers"]
    assert event["cookies"] == ["a=1", "b=2"]
    context = event["requestContext"]
    assert context["http"]["method"] == "GET" and context["http"]["path"] == "/scores"
    assert context["http"]["sourceIp"] == "127.0.0.1"
    assert context["stage"] == "$default" and context["requestId"]
    assert isinstance(context["timeEpoch"], int)
    assert event["isBase64Encoded"] is False and "body" not in event


def test_repeated_query_parameters_are_joined_by_commas_and_decoded(local, recorder):
    fetch(local.url, path="/scores?role=merchant&role=photographer&name=Ana%20Bo&empty=")
    assert recorder.events[0]["queryStringParameters"] == {
        "role": "merchant,photographer", "name": "Ana Bo", "empty": ""}


def test_a_request_without_a_query_has_no_parameters(local, recorder):
    fetch(local.url, path="/")
    assert "queryStringParameters" not in recorder.events[0]
    assert recorder.events[0]["rawQueryString"] == ""


def test_a_text_body_is_passed_as_text_and_a_binary_one_in_base64(local, recorder):
    fetch(local.url, "POST", "/x", body=b'{"a": 1}', headers={"Content-Type": "application/json"})
    fetch(local.url, "POST", "/x", body=b"\x00\xff", headers={"Content-Type": "application/octet-stream"})
    text, binary = recorder.events
    assert (text["body"], text["isBase64Encoded"]) == ('{"a": 1}', False)
    assert (base64.b64decode(binary["body"]), binary["isBase64Encoded"]) == (b"\x00\xff", True)


def test_the_function_answer_becomes_the_http_response():
    answer = {"statusCode": 201, "headers": {"X-Answer": "42"}, "body": "made"}
    with LocalApi(Recorder(answer)) as local:
        status, headers, body = fetch(local.url, "PUT", "/things")
    assert (status, headers["X-Answer"], body) == (201, "42", b"made")


def test_a_base64_answer_is_decoded():
    answer = {"statusCode": 200, "body": base64.b64encode(b"\x89PNG").decode(), "isBase64Encoded": True}
    with LocalApi(Recorder(answer)) as local:
        assert fetch(local.url)[2] == b"\x89PNG"


def test_an_answer_without_status_code_is_a_json_200_as_api_gateway_infers():
    with LocalApi(Recorder({"hello": "winners"})) as local:
        status, headers, body = fetch(local.url)
    assert (status, headers["Content-Type"], json.loads(body)) == (200, "application/json", {"hello": "winners"})


@pytest.mark.parametrize("answer", [
    {"statusCode": "two hundred"},
    {"statusCode": 200, "body": {"not": "a string"}},
    {"statusCode": 200, "headers": ["X-A", "1"]},
    {"statusCode": 700},
    {"statusCode": 200, "body": "not base64!", "isBase64Encoded": True},
    {"statusCode": 200, "body": object()},
], ids=["status-text", "body-object", "headers-list", "status-700", "bad-base64", "unserializable"])
def test_a_malformed_answer_is_a_502_internal_server_error(answer):
    with LocalApi(Recorder(answer)) as local:
        status, _, body = fetch(local.url)
    assert (status, json.loads(body)) == (502, {"message": "Internal Server Error"})


def test_a_crashing_function_is_a_502_and_the_server_keeps_serving():
    calls = []

    def crash_once(event):
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return {"statusCode": 200, "body": "fine"}

    with LocalApi(crash_once) as local:
        first = fetch(local.url)
        second = fetch(local.url)
    assert (first[0], json.loads(first[2])) == (502, {"message": "Internal Server Error"})
    assert (second[0], second[2]) == (200, b"fine")


def test_head_gets_the_headers_without_a_body(local):
    status, headers, body = fetch(local.url, "HEAD")
    assert (status, headers["Content-Length"], body) == (200, "2", b"")


def test_stop_frees_the_port_and_a_busy_port_is_a_clear_error(recorder):
    local = LocalApi(recorder).start()
    port = urllib.parse.urlsplit(local.url).port
    with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
        LocalApi(recorder, port=port).start()
    local.stop()
    local.stop()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


def test_the_url_is_only_known_while_running(recorder):
    with pytest.raises(ConfigError, match="not running"):
        _ = LocalApi(recorder).url


def test_http_response_applies_the_payload_2_rules_directly():
    assert http_response({"statusCode": 204}) == (204, {}, b"")
    assert http_response([1, 2]) == (200, {"Content-Type": "application/json"}, b"[1, 2]")


def test_the_winner_api_answers_through_the_local_endpoint(monkeypatch):
    with moto.mock_aws():
        env = tables.create(boto3.client("dynamodb", region_name="us-east-1"), "hw-local-")
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(api, "_client", None)
        with LocalApi(lambda event: api.handler(event, None)) as local:
            scores = fetch(local.url, path="/scores?role=creator&limit=3")
            bad = fetch(local.url, path="/scores?role=merchant&role=photographer")
            page = fetch(local.url, path="/")
            preflight = fetch(local.url, "OPTIONS", "/scores")
    assert (scores[0], json.loads(scores[2])) == (200, {"role": "merchant", "limit": 3, "scores": [], "skipped": 0})
    assert bad[0] == 400 and "merchant,photographer" in json.loads(bad[2])["error"]
    assert page[0] == 200 and page[1]["Content-Type"] == "text/html; charset=utf-8"
    assert preflight[0] == 204 and preflight[1]["Access-Control-Allow-Origin"] == "*"


def raw(local, data):
    """(status, headers, body) of what the server answers to the raw bytes ``data``, read until it closes."""
    parts = urllib.parse.urlsplit(local.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(data)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, body


@pytest.fixture
def strict(recorder):
    """A local API with small limits and a short wait, so the refusals can be reached quickly."""
    with LocalApi(recorder, limits=Limits(body_bytes=1000, header_bytes=500, timeout_s=0.5)) as running:
        yield running


def refused(local, data, status, recorder):
    """Assert the server answers ``data`` with a JSON ``status``, closes the connection, and never calls the function."""
    got, headers, body = raw(local, data)
    assert (got, headers["Content-Type"], headers["Connection"]) == (status, "application/json", "close")
    assert set(json.loads(body)) == {"message"}
    assert recorder.events == []
    return json.loads(body)["message"]


def test_a_body_shorter_than_its_content_length_times_out_with_a_json_408(strict, recorder):
    message = refused(strict, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\nshort", 408, recorder)
    assert message == "the request body did not arrive in time"


def test_an_idle_connection_is_closed_by_the_server(strict):
    parts = urllib.parse.urlsplit(strict.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        assert connection.recv(1) == b""  # closed by the server, not by this client's own timeout


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", " ", "12 34"])
def test_a_content_length_that_is_not_a_number_is_a_json_400_without_a_traceback(strict, recorder, capfd, length):
    request = f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\nbody".encode()
    assert "Content-Length" in refused(strict, request, 400, recorder)
    assert "Traceback" not in capfd.readouterr().err
    assert fetch(strict.url)[0] == 200  # and it keeps serving


def test_a_body_over_the_limit_is_a_json_413_unread(strict, recorder):
    refused(strict, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n", 413, recorder)


def test_headers_over_the_limit_are_a_json_431(strict, recorder):
    refused(strict, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 600 + b"\r\n\r\n", 431, recorder)


def test_a_chunked_body_is_a_json_411(strict, recorder):
    refused(strict, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 411,
            recorder)


@pytest.mark.parametrize("method, status", [("TRACE", 405), ("CONNECT", 405), ("PROPFIND", 501), ("BREW", 501)])
def test_methods_api_gateway_does_not_route_get_a_json_error(strict, recorder, method, status):
    refused(strict, f"{method} / HTTP/1.1\r\nHost: x\r\n\r\n".encode(), status, recorder)


@pytest.mark.parametrize("data", [
    b"garbage\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nbad header\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nab",
    b"POST / HTTP/1.1\r\nHost: x\r\ncontent-length: 2, 5\r\n\r\nab",
    b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
], ids=["garbage-line", "no-host", "bad-header", "two-equal-lengths", "two-lengths", "a-list-of-lengths",
        "tls-hello"])
def test_a_malformed_request_gets_a_status_line_and_a_json_400(strict, recorder, data):
    refused(strict, data, 400, recorder)
    assert fetch(strict.url)[0] == 200  # and it keeps serving


def test_a_request_that_stops_halfway_through_its_headers_is_a_json_408(strict, recorder):
    refused(strict, b"GET / HTTP/1.1\r\nHost: x\r\n", 408, recorder)


def test_an_http_version_other_than_1_is_a_json_505(strict, recorder):
    refused(strict, b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, recorder)


def test_a_body_that_ends_short_of_its_length_is_a_json_400(strict, recorder):
    parts = urllib.parse.urlsplit(strict.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\nshort")
        connection.shutdown(socket.SHUT_WR)
        answer = connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 400 ") and b"shorter than its Content-Length" in answer
    assert recorder.events == []


def test_requests_beyond_what_the_server_runs_at_once_get_a_503_with_retry_after():
    gate = threading.Event()

    def held(event):
        gate.wait(30)
        return {"statusCode": 200, "body": "ok"}

    with LocalApi(held, limits=Limits(in_flight=2, queue_s=0.2)) as local, \
            concurrent.futures.ThreadPoolExecutor(2) as pool:
        running = [pool.submit(fetch, local.url) for _ in range(2)]
        time.sleep(0.3)  # both are running now (no timing is asserted: a later start only adds a 503 below)
        status, headers, body = fetch(local.url)
        gate.set()
        assert [call.result()[0] for call in running] == [200, 200]
    assert (status, headers["Retry-After"]) == (503, "1") and "busy" in json.loads(body)["message"]


def test_a_thousand_requests_at_once_each_get_an_http_answer(recorder):
    with LocalApi(recorder) as local:
        answers = flood(local.url, 1000, "/scores")
    assert None not in answers and sum(answers.values()) == 1000, answers
    assert set(answers) <= {200, 503} and answers[200] >= 1, answers
