"""Before it serves, the embedded AWS proves that it refuses: a forged signature, and a request outside a policy.

Its strictness rests on one method of moto that hello_winners.embedded.strict replaces. Were moto to
rename it, the replacement would land on a name nothing calls and the server would serve everything,
to anyone. So the server sends itself, through the whole application, two requests that must be
refused: one signed with the kit's key id but a wrong secret, and one signed by a participant of the
room (a user made for the test, holding the room policy) for a table outside their stage. Unless both
answer as AWS would (403, the signature's error and AccessDenied), the server does not serve.
pyproject.toml pins moto to the minor versions this was proven on.
"""

from __future__ import annotations

import io
import json
import os
import sys
import urllib.parse
from collections.abc import Callable
from typing import Any

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.iam.models import iam_backends
from moto.utilities.utils import get_partition

from hello_winners import naming
from hello_winners.deploy import policies, room
from hello_winners.embedded import credentials

PROBE = "hello-winners-self-test"  # the participant made for the test, and removed after it
_HOST = "127.0.0.1"
_WHY = "the version of moto installed no longer calls the check the kit puts in place (`pip install -e .` installs " \
       "one it was proven on)"


def problem(app: Callable, account: str, region: str, policies_enforced: bool = True) -> str | None:
    """Why ``app`` (the strict WSGI application) must not serve, in one sentence, or None when it refuses both
    (the second only while policies are enforced: HELLO_WINNERS_IAM=off switches them off on purpose)."""
    kit = credentials.keys(credentials.KIT)
    forged = Credentials(kit.aws_access_key_id, "not-" + kit.aws_secret_access_key)
    status, body = _send(app, forged, "ListTables", {}, region)
    if status != 403 or b"InvalidSignature" not in body:
        return f"a request signed with a wrong secret was answered {status}, not refused: {_WHY}"
    if not policies_enforced:
        return None
    iam = iam_backends[account][get_partition(region)]
    iam.create_user(region_name=region, user_name=PROBE, path=room.USER_PATH,
                    tags=[{"Key": naming.STAGE_TAG, "Value": "selftest"}])
    try:
        iam.put_user_policy(PROBE, "room", json.dumps(policies.room(region, account, get_partition(region))))
        keys = credentials.participant_keys(PROBE)
        status, body = _send(app, Credentials(keys.aws_access_key_id, keys.aws_secret_access_key), "DescribeTable",
                             {"TableName": "hw-other-scores"}, region)
    finally:
        _remove(iam, PROBE)
    if status != 403 or b"AccessDenied" not in body:
        return f"a participant's request outside the room policy was answered {status}, not refused: {_WHY}"
    return None


def refuse_to_serve(reason: str) -> None:
    """Say why in one sentence and end the process with a failure: the server never serves unchecked."""
    print(f"hello-winners: the embedded AWS will not serve: {reason}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(1)


def _send(app, signer, operation, body, region):
    """One DynamoDB request, signed as ``signer``, through ``app`` as a WSGI server would hand it; (status, body)."""
    data = json.dumps(body).encode()
    request = AWSRequest(method="POST", url=f"http://{_HOST}/", data=data,
                         headers={"Content-Type": "application/x-amz-json-1.0",
                                  "X-Amz-Target": f"DynamoDB_20120810.{operation}"})
    botocore.auth.SigV4Auth(signer, "dynamodb", region).add_auth(request)
    prepared = request.prepare()
    url = urllib.parse.urlsplit(prepared.url)
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": url.path or "/", "QUERY_STRING": url.query,
               "SERVER_NAME": _HOST, "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.version": (1, 0),
               "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(data), "wsgi.errors": sys.stderr,
               "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
               "CONTENT_TYPE": prepared.headers["Content-Type"], "CONTENT_LENGTH": str(len(data))}
    for name, value in prepared.headers.items():
        if name.lower() not in ("content-type", "content-length"):
            environ["HTTP_" + name.upper().replace("-", "_")] = value
    environ["HTTP_HOST"] = _HOST
    answered: list[Any] = []
    chunks = app(environ, lambda status, headers, exc_info=None: answered.append(status) or (lambda data: None))
    return int(answered[0].split()[0]), b"".join(chunks)


def _remove(iam, user_name):
    for name in list(iam.list_user_policies(user_name)):
        iam.delete_user_policy(user_name, name)
    for key in list(iam.list_access_keys(user_name)):
        iam.delete_access_key(key.access_key_id, user_name)
    iam.delete_user(user_name)
