"""The embedded server asks the local runtime to read the deployment again after each change to it."""

import threading

import pytest

from hello_winners.embedded.lambda_changes import Teller, changes_what_runs, telling

LAMBDA = "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261203/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0"


def signed_for(service):
    return LAMBDA.replace("/lambda/", f"/{service}/")


@pytest.mark.parametrize(("method", "path", "service", "status"), [
    ("POST", "/2015-03-31/functions", "lambda", 201),                        # CreateFunction
    ("PUT", "/2015-03-31/functions/f/code", "lambda", 200),                  # UpdateFunctionCode
    ("DELETE", "/2015-03-31/functions/f", "lambda", 204),                    # DeleteFunction
    ("POST", "/2015-03-31/event-source-mappings/", "lambda", 202),           # CreateEventSourceMapping
    ("PUT", "/2017-10-31/functions/f/concurrency", "lambda", 200),           # PutFunctionConcurrency
    ("POST", "/v2/apis/a1/integrations", "apigateway", 201),                 # CreateIntegration
    ("DELETE", "/v2/apis/a1", "apigateway", 204),                            # DeleteApi
])
def test_a_successful_write_to_lambda_or_api_gateway_changes_what_runs(method, path, service, status):
    assert changes_what_runs(method, path, service, status)


@pytest.mark.parametrize(("method", "path", "service", "status"), [
    ("GET", "/2015-03-31/functions/", "lambda", 200),                        # a read
    ("POST", "/2015-03-31/functions/f/invocations", "lambda", 200),          # Invoke runs, changes nothing
    ("POST", "/2015-03-31/functions", "lambda", 400),                        # refused: nothing changed
    ("POST", "/2015-03-31/functions", "lambda", 403),
    ("POST", "/", "dynamodb", 200),                                          # another service's write
    ("POST", "/", "kinesis", 200),
    ("POST", "/2015-03-31/functions", None, 200),                            # unsigned
])
def test_reads_refusals_invocations_and_other_services_change_nothing_it_runs(method, path, service, status):
    assert not changes_what_runs(method, path, service, status)


def answered(method, path, authorization, status):
    inner_status = []

    def inner(environ, start_response):
        start_response(status, [("Content-Type", "application/json")])
        return [b"{}"]

    told = []
    body = telling(inner, lambda: told.append(path))(
        {"REQUEST_METHOD": method, "PATH_INFO": path, "HTTP_AUTHORIZATION": authorization},
        lambda s, headers, exc_info=None: inner_status.append(s))
    assert list(body) == [b"{}"] and inner_status == [status]  # the answer itself is passed on untouched
    return told


def test_the_server_tells_as_it_answers_a_write_that_changes_what_runs():
    assert answered("POST", "/2015-03-31/event-source-mappings/", LAMBDA, "202 Accepted")
    assert not answered("POST", "/2015-03-31/functions", LAMBDA, "403 Forbidden")
    assert not answered("POST", "/", signed_for("dynamodb"), "200 OK")


class Asks:
    """An ``ask`` that blocks until released, so the test decides when an ask ends."""

    def __init__(self, fail_first=False):
        self.started, self.released, self.count = threading.Semaphore(0), threading.Semaphore(0), 0
        self.fail_first = fail_first

    def __call__(self):
        self.count += 1
        self.started.release()
        assert self.released.acquire(timeout=30)
        if self.fail_first and self.count == 1:
            raise OSError("no runtime answers")

    def next_started(self):
        assert self.started.acquire(timeout=30), "the teller never asked"


def test_tells_while_the_runtime_is_being_asked_make_one_more_ask_not_one_each():
    asks = Asks()
    teller = Teller(asks)
    teller.tell()
    asks.next_started()
    for _ in range(5):
        teller.tell()
    asks.released.release()
    asks.next_started()
    assert asks.count == 2 and not teller._told.is_set()  # the burst is this one ask: nothing is left pending
    asks.released.release()


def test_a_runtime_that_cannot_be_asked_does_not_stop_the_telling():
    asks = Asks(fail_first=True)
    teller = Teller(asks)
    teller.tell()
    asks.next_started()
    asks.released.release()  # this ask raises
    teller.tell()
    asks.next_started()
    assert asks.count == 2
    asks.released.release()
