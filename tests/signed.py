"""Raw requests to the embedded AWS, signed with SigV4 as boto3 signs them, but shaped by the test.

boto3 refuses to send a field its model does not have; an attacker's client does not. These helpers
sign whatever method, path, query, headers and body a test writes, as any identity, at any clock.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import urllib.error
import urllib.parse
import urllib.request
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from hello_winners import embedded

# The JSON protocols' content types and targets, by boto3 service name.
JSON_SERVICES = {
    "dynamodb": ("application/x-amz-json-1.0", "DynamoDB_20120810"),
    "kinesis": ("application/x-amz-json-1.1", "Kinesis_20131202"),
    "logs": ("application/x-amz-json-1.1", "Logs_20140328"),
}
SIGNING_NAMES = {"apigatewayv2": "apigateway"}


@dataclasses.dataclass(frozen=True)
class Identity:
    """Keys to sign with: the participant's, the kit's, or a role's temporary ones."""

    name: str
    access_key: str
    secret_key: str
    token: str | None = None

    @classmethod
    def of(cls, name: str, keys: object, token: str | None = None) -> Identity:
        return cls(name, keys.aws_access_key_id, keys.aws_secret_access_key, token)


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    @property
    def code(self) -> str:
        """The error code of a JSON or XML error answer ('' for a success)."""
        if self.status < 300:
            return ""
        text = self.body.decode("utf-8", "replace")
        try:
            found = json.loads(text)
            return str(found.get("__type", found.get("Type", ""))).rpartition("#")[2]
        except ValueError:
            return text.partition("<Code>")[2].partition("</Code>")[0]


def send(endpoint: str, identity: Identity, service: str, method: str = "POST", path: str = "/",
         query: list[tuple[str, str]] | str = "", body: bytes | str | dict = b"", headers: dict | None = None,
         region: str = embedded.REGION, when: datetime.datetime | None = None, timeout: float = 30) -> Answer:
    """Sign and send one request; its status and body (an HTTP error is an answer too)."""
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    query = query if isinstance(query, str) else urllib.parse.urlencode(query)
    url = endpoint + path + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    credentials = Credentials(identity.access_key, identity.secret_key, identity.token)
    signer = botocore.auth.SigV4Auth(credentials, SIGNING_NAMES.get(service, service), region)
    if when is None:
        signer.add_auth(request)
    else:
        with mock.patch.object(botocore.auth, "get_current_datetime", lambda: when):
            signer.add_auth(request)
    prepared = request.prepare()
    sent = urllib.request.Request(prepared.url, data=body if method not in ("GET", "HEAD") or body else None,
                                  method=method, headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(sent, timeout=timeout) as response:
            return Answer(response.status, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read())


def json_call(endpoint: str, identity: Identity, service: str, operation: str, body: dict | str,
              **kwargs: object) -> Answer:
    """A call of a JSON-protocol service (DynamoDB, Kinesis, Logs) with the body as given."""
    content_type, prefix = JSON_SERVICES[service]
    headers = {"Content-Type": content_type, "X-Amz-Target": f"{prefix}.{operation}", **kwargs.pop("headers", {})}
    return send(endpoint, identity, service, body=body, headers=headers, **kwargs)


def query_call(endpoint: str, identity: Identity, service: str, params: list[tuple[str, str]],
               url_params: list[tuple[str, str]] = (), **kwargs: object) -> Answer:
    """A call of a query-protocol service (IAM, STS): ``params`` in the form body, ``url_params`` in the URL."""
    return send(endpoint, identity, service, query=list(url_params), body=urllib.parse.urlencode(params),
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, **kwargs)
