"""The embedded target: the same calls as on AWS, against the moto server and the local Lambda runtime."""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable, Iterable

import boto3

from hello_winners import targets
from hello_winners.embedded import credentials, participants, runtime, server
from hello_winners.targets import sessions


class EmbeddedTarget(targets.Target):
    """The embedded AWS: the kit's moto server (started on first need), in a fixed region, signed as the
    room's participant whose stage it is (hello_winners.embedded.participants)."""

    name = targets.EMBEDDED

    def session(self, stage: str | None = None) -> boto3.Session:
        """The session of the stage's participant, made on the server when this process has not seen them there."""
        return _session(self._participant(self.endpoint(), stage))

    def endpoint(self) -> str:
        return server.endpoint()

    def client(self, service: str, stage: str | None = None) -> object:
        return self.clients((service,), stage)[service]

    def clients(self, services: Iterable[str], stage: str | None = None) -> dict:
        """As on AWS; what the clients load (models, endpoint rules) is read while the server starts.

        Making seven clients takes 0.15 s, and a cold server half a second; made again once the endpoint is
        known, from what the session has kept, they take 0.02 s. The stage's participant is made on the
        server first, when this process has not seen it there yet.
        """
        services = tuple(services)
        guessed = _session(participants.guess(stage))  # whose it will be, in all likelihood: its models load now
        loading = threading.Thread(target=_quietly, args=(functools.partial(_load, guessed, services),), daemon=True)
        loading.start()
        endpoint = self.endpoint()
        session = _session(self._participant(endpoint, stage))
        loading.join()
        return {service: session.client(service, endpoint_url=endpoint, config=targets.CLIENT_CONFIG)
                for service in services}

    def _participant(self, endpoint: str, stage: str | None) -> str:
        running = server.find() if not server.configured_endpoint() else None
        return participants.ensure(endpoint, server.REGION, stage, running.pid if running else None)

    def instructor_clients(self, services: Iterable[str]) -> dict:
        """The embedded AWS's administrator is the kit's own identity."""
        session = sessions.session(region_name=server.REGION, **vars(credentials.keys(credentials.KIT)))
        endpoint = self.endpoint()
        return {service: session.client(service, endpoint_url=endpoint, config=targets.CLIENT_CONFIG)
                for service in services}

    def where(self) -> str:
        return f"the embedded AWS at {self.endpoint()}"

    def api_url(self, api_id: str, region: str) -> str:
        return runtime.api_url(api_id)

    def before_deploy(self) -> None:
        """Start the local runtime in the background: its start then overlaps the deploy, not the drain.

        A failure is left to the deploy's own request to the runtime, which says it.
        """
        threading.Thread(target=_quietly, args=(runtime.ensure_running,), daemon=True).start()

    def after_teardown(self) -> None:
        """The local runtime stops running the deleted functions now, not at its next periodic read."""
        runtime.sync()

    def wait_until_consumed(self, clients: dict, stream_name: str, table_names: dict[str, str],
                            report: Callable[[str], None] = print, timeout_s: float = 600,
                            sleep: Callable[[float], None] = time.sleep) -> None:
        """The local runtime knows when the stream's shards are caught up: wait for that (not for other stages')."""
        shards = runtime.drain(timeout_s, stream=stream_name)["shards"]
        records, batches = sum(s["records"] for s in shards), sum(s["batches"] for s in shards)
        report(f"the consumer caught up with {stream_name}: {records} records in {batches} "
               f"batch{'' if batches == 1 else 'es'}")

    def closing_note(self) -> str:
        return "the embedded AWS keeps running for the notebooks; `hello-winners server stop` stops it"

    def runtime_lines(self, stream_name: str) -> list[str]:
        """The local runtime's lines about the shards of ``stream_name`` (one stage's), and its checkpoints."""
        state = runtime.status()
        if not state:
            return []
        lines = [f"  local runtime: {s['shard']}: {s['records']} records in {s['batches']} batches, "
                 f"{s['retries']} retries, {s['discarded']} discarded" + (f", ERROR {s['error']}" if s["error"] else "")
                 + (f", {s['checkpoint_reset']}" if s.get("checkpoint_reset") else "")
                 for s in state["shards"] if s.get("stream") == stream_name]
        return lines + ([f"  local runtime: {state['checkpoints']}"] if state.get("checkpoints") else [])


@functools.lru_cache(maxsize=None)
def _load(session: boto3.Session, services: tuple[str, ...]) -> None:
    """Make and drop a client of each service: the session keeps what they read for the real ones.

    Once per session and services: after that the session holds it all already.
    """
    for service in services:
        session.client(service, endpoint_url=f"http://{server.HOST}")


def _quietly(start: Callable[[], object]) -> None:
    with contextlib.suppress(Exception):
        start()


def _session(participant: str) -> boto3.Session:
    """The participant's session; cached per state folder (a test may switch folders) and participant."""
    return _participant_session(str(credentials.path()), participant)


@functools.lru_cache(maxsize=None)
def _participant_session(_keys_path: str, participant: str) -> boto3.Session:
    keys = credentials.participant_keys(participant)
    return sessions.session(region_name=server.REGION, aws_access_key_id=keys.aws_access_key_id,
                            aws_secret_access_key=keys.aws_secret_access_key)
