"""The local Lambda runtime's process: the part of the Lambda service that moto cannot play.

It reads the event source mappings and function configurations back from the (moto) Lambda API and
runs them: a poller per shard of every enabled Kinesis mapping, and a local HTTP endpoint per HTTP API
whose default route goes to a function. It re-reads the configuration at once when asked (deploy,
teardown, drain, and the embedded server after every write to Lambda or API Gateway), and
periodically as a fallback, every few seconds after a change and less while nothing changes
(pacing.py), so a redeploy takes effect without a restart and a stage at rest costs little. A small
control API on 127.0.0.1 reports its state (GET /status) and re-reads on demand (POST /sync), which
also makes every poller poll now; both ask for the kit's token.
"""

from __future__ import annotations

import argparse
import collections
import hmac
import json
import signal
import sys
import threading
import time
from typing import Any

import botocore.config

from hello_winners.targets import pages, sessions, state
from hello_winners.embedded import credentials, server
from hello_winners.errors import ConfigError
from hello_winners.targets.state import state_dir
from hello_winners.embedded.http_server import Answer, Limits, Request, Server
from hello_winners.embedded.local_api import LocalApi
from hello_winners.embedded.runtime.functions import Config, Function, spare_workers
from hello_winners.embedded.runtime.pool import TooManyRequestsException
from hello_winners.embedded.runtime.addresses import Addresses
from hello_winners.embedded.runtime.checkpoints import Checkpoints
from hello_winners.embedded.runtime.pacing import sync_wait
from hello_winners.embedded.runtime.pollers import ShardPoller, settings

SERVICE = "hello-winners-lambda-runtime"
# How long an API request waits for one of the function's workers before its 429.
API_WAIT_S = 2.0


_CLIENT_CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=50)


class Runtime:
    def __init__(self, endpoint: str) -> None:
        # The kit's identity stands in for the Lambda service: it reads what is deployed and assumes roles.
        session = sessions.session(region_name=server.REGION, **vars(credentials.keys(credentials.KIT)))
        self.clients = {s: session.client(s, endpoint_url=endpoint, config=_CLIENT_CONFIG)
                        for s in ("lambda", "kinesis", "apigatewayv2", "sts")}
        self.target_environment = {"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": server.REGION,
                                   "AWS_DEFAULT_REGION": server.REGION}
        self.endpoint = endpoint
        self.log_lines = []
        self.checkpoints = Checkpoints(state_dir() / "runtime" / "checkpoints.json", self.log)
        self.addresses = Addresses(state_dir() / "runtime" / "api-ports.json")
        self.functions = {}   # name -> Function
        self.spares = spare_workers(log=self.log)
        self.fresh = set()    # names of the functions the current sync took on
        self.pollers = {}     # (mapping uuid, shard id) -> ShardPoller
        self.apis = {}        # api id -> (function name, LocalApi)
        self.lock = threading.Lock()
        self.changes = 0  # pollers, functions or endpoints started or stopped: the periodic sync's pace
        self.syncs_asked = 0  # reads made because someone asked (POST /sync), not on the periodic pace

    def log(self, line: str) -> None:
        stamped = f"{time.strftime('%H:%M:%S')} {line}"
        self.log_lines = (self.log_lines + [stamped])[-50:]
        print(stamped, flush=True)

    def sync(self, asked: bool = False) -> None:
        """Bring pollers, functions and endpoints in line with what the Lambda and API Gateway APIs say.

        ``asked``: someone asked for it (POST /sync: a deploy, a drain, the server after a write), not the
        periodic pace; every poller then polls at once, as records may have just been put. A periodic sync
        tops the spare workers up when every shard is caught up.
        """
        with self.lock:
            self.syncs_asked += asked
            self.fresh = set()  # names of the functions taken on in this sync (new code or configuration)
            mappings = [m for m in self._mappings() if m.get("State", "Enabled") == "Enabled"
                        and ":kinesis:" in m.get("EventSourceArn", "")]
            wanted = set()
            feeding = collections.Counter()  # function name: shards polled for it
            starting = []
            for mapping in mappings:
                function_name = mapping["FunctionArn"].rpartition(":")[2]
                function = self._function(function_name)
                if not function:
                    continue
                for shard in self._shards(mapping["EventSourceArn"]):
                    key = (mapping["UUID"], shard)
                    wanted.add(key)
                    feeding[function_name] += 1
                    poller = self.pollers.get(key)
                    if poller is not None and (settings(poller.mapping) != settings(mapping)
                                               or poller.role_arn != function.config.role):
                        poller.stop()
                        poller = None
                    if poller is None or not poller.is_alive() and poller.error:
                        # Lambda reads the stream with the function's own role, so does the runtime.
                        poller = ShardPoller(function.client("kinesis"), mapping, shard,
                                             lambda n=function_name: self.functions[n], self.checkpoints,
                                             self.log, server.REGION, function.config.role)
                        self.pollers[key] = poller
                        starting.append(poller)
                        self.changes += 1
                    elif asked:
                        poller.wake()
            # An environment per shard that will feed a new function, started before its pollers read:
            # an environment's init (a Python, boto3) takes longer than a first read of the stream.
            for name in self.fresh & feeding.keys():
                self.functions[name].warm(feeding[name])
            for poller in starting:
                poller.start()
            for key in set(self.pollers) - wanted:
                self.pollers.pop(key).stop()
                self.changes += 1
            self.checkpoints.keep_only({m["UUID"] for m in mappings})
            self._sync_apis()
            for function in self.functions.values():
                function.reap()
            for name in self.fresh - feeding.keys():  # one environment for a new function behind an API only
                self.functions[name].warm(1)
            # Not while batches run (a stopped poller runs none): starting spares takes the CPU they need.
            if not asked and all(p.caught_up and not p.in_flight for p in self.pollers.values() if p.is_alive()):
                self.spares.top_up()

    def status(self) -> dict:
        return {
            "service": SERVICE,
            "endpoint": self.endpoint,
            "now": time.time(),
            "syncs_asked": self.syncs_asked,
            "shards": [p.status() for p in self.pollers.values()],
            "checkpoints": self.checkpoints.problem,
            "spare_workers": self.spares.ready,
            "functions": {n: {"invocations": f.invocations, "errors": f.errors, "throttles": f.throttles,
                              "workers": f.workers.size, "log": str(f.log_path)} for n, f in self.functions.items()},
            "apis": {api_id: {"function": name, "url": local.url} for api_id, (name, local) in self.apis.items()},
            "log": self.log_lines[-20:],
        }

    def stop(self) -> None:
        for poller in self.pollers.values():
            poller.stop()
        for _, local in self.apis.values():
            local.stop()
        for function in self.functions.values():
            function.close()
        self.spares.close()

    def _mappings(self):
        pages = self.clients["lambda"].get_paginator("list_event_source_mappings").paginate()
        return [m for page in pages for m in page["EventSourceMappings"]]

    def _shards(self, stream_arn):
        pages = self.clients["kinesis"].get_paginator("list_shards").paginate(StreamARN=stream_arn)
        return [s["ShardId"] for page in pages for s in page["Shards"]]

    def _function(self, name):
        """The runnable function for ``name``, replaced when its code or configuration changed."""
        try:
            config = Config.from_api(self.clients["lambda"].get_function(FunctionName=name))
        except self.clients["lambda"].exceptions.ResourceNotFoundException:
            return None
        current = self.functions.get(name)
        if current is None or current.config != config:
            try:
                self.functions[name] = Function(config, {**self.target_environment, **self._role_credentials(config)},
                                                spares=self.spares)
            except Exception as error:  # noqa: BLE001 - e.g. code the kit did not build: said in the log
                self.log(f"cannot run {name}: {error}")
                return None
            self.changes += 1
            if current is not None:
                current.close()
                self.log(f"{name}: new code or configuration, fresh workers")
            self.fresh.add(name)
        return self.functions[name]

    def _role_credentials(self, config):
        """Temporary credentials of the function's execution role, as Lambda gives each function."""
        answer = self.clients["sts"].assume_role(RoleArn=config.role, RoleSessionName=config.name[:64])
        granted = answer["Credentials"]
        return {"AWS_ACCESS_KEY_ID": granted["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": granted["SecretAccessKey"],
                "AWS_SESSION_TOKEN": granted["SessionToken"]}

    def _sync_apis(self):
        apis = self.clients["apigatewayv2"]
        live = set()
        for api in pages.items(apis, "get_apis", "Items"):
            integrations = list(pages.items(apis, "get_integrations", "Items", ApiId=api["ApiId"]))
            uri = next((i["IntegrationUri"] for i in integrations if i.get("IntegrationType") == "AWS_PROXY"), None)
            if not uri:
                continue
            name = uri.rpartition(":")[2]
            if not self._function(name):
                continue
            live.add(api["ApiId"])
            if api["ApiId"] not in self.apis:
                local = self._serve(api["ApiId"], name)
                self.apis[api["ApiId"]] = (name, local)
                self.changes += 1
                self.log(f"HTTP API {api['Name']} serving at {local.url}")
        for api_id in set(self.apis) - live:
            self.apis.pop(api_id)[1].stop()
            self.changes += 1
        self.addresses.remember({api_id: local.port for api_id, (_, local) in self.apis.items()})

    def _serve(self, api_id, name):
        """Serve the API at the address it had before a restart, else on any free port."""
        def invoke(event):
            return api_answer(self.functions[name], event)

        try:
            return LocalApi(invoke, port=self.addresses.port(api_id)).start()
        except ConfigError:  # its port was taken meanwhile
            return LocalApi(invoke).start()


def api_answer(function: Function, event: dict, wait_s: float = API_WAIT_S) -> Any:
    """The function's answer to an HTTP API event; a 429 when all its workers stay busy ``wait_s``.

    A function error raises, which the local API answers as API Gateway does (502).
    """
    try:
        outcome = function.invoke(event, wait_s)
    except TooManyRequestsException as throttled:
        return {"statusCode": 429, "headers": {"Content-Type": "application/json", "Retry-After": "1"},
                "body": json.dumps({"message": "Too Many Requests", "errorType": "TooManyRequestsException",
                                    "errorMessage": str(throttled)})}
    if outcome.error:
        raise RuntimeError(f"{outcome.error.get('errorType')}: {outcome.error.get('errorMessage')}")
    return outcome.result


def _control(runtime: Runtime, port: int) -> Server:
    """The control API: GET /status and POST /sync, for the kit's token only (its status names functions,
    logs and URLs too). Served as the HTTP APIs are, so no client can stall it or go unanswered."""
    token = credentials.control_token().encode()  # the state folder's keys do not change while it runs

    def answer(request: Request) -> Answer:
        shown = {name.lower(): value for name, value in request.headers}.get("authorization", "")
        if not hmac.compare_digest(shown.removeprefix("Bearer ").encode(), token):
            return _json(403, {"message": "only the kit may ask the runtime: it signs with its state folder's key"})
        if (request.method, request.target) == ("GET", "/status"):
            return _json(200, runtime.status())
        if (request.method, request.target) == ("POST", "/sync"):
            try:
                runtime.sync(asked=True)
            except OSError as error:  # a full disk, a read-only folder: the kit says it in one sentence
                said = state.explain(error)
                if said is None:
                    raise
                return _json(500, {"message": said})
            return _json(200, runtime.status())
        return _json(404, {"message": "unknown path: use GET /status or POST /sync"})

    return Server(answer, port=port, limits=Limits(body_bytes=0, in_flight=8), methods=("GET", "POST"),
                  name="runtime-control")


def _json(status, body):
    return Answer(status, {"Content-Type": "application/json"}, json.dumps(body).encode())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The kit's local Lambda runtime (started by hello-winners).")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--endpoint", required=True)
    args = parser.parse_args(argv)
    runtime = Runtime(args.endpoint)
    control = _control(runtime, args.port).start()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    runtime.log(f"local Lambda runtime for {args.endpoint}, control on port {args.port}")
    seen, unchanged = -1, 0
    while not stopping.is_set():
        try:
            runtime.sync()
        except Exception as error:  # noqa: BLE001 - keep serving; the next sync may succeed
            runtime.log(f"sync failed: {type(error).__name__}: {error}")
        unchanged = 0 if runtime.changes != seen else unchanged + 1  # also counts what a /sync changed
        seen = runtime.changes
        stopping.wait(sync_wait(unchanged))
    runtime.stop()
    control.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
