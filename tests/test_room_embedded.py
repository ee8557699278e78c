"""The room server as ``room start`` runs it, over loopback HTTP on the embedded AWS: killed with
SIGKILL in the middle of a stream of purchases, every purchase a participant was told "done" is in the
room log after the restart, once; the stream then holds exactly the room log; the export replays it."""

import contextlib
import os
import signal
import threading

import httpx2 as httpx
import psutil
import pytest
from room_players import Player, room_on

from hello_winners import deploy
from hello_winners.game import eventlog, stream
from hello_winners.room import control


@pytest.fixture(scope="module")
def room_server(embedded_server):
    with room_on("test-room-kill") as room:
        yield room


pytestmark = pytest.mark.embedded


def player(base, code, name, roles):
    joined = Player(httpx.Client(base_url=base, timeout=10), code)
    assert joined.join(name, roles).status_code == 303
    return joined


def test_a_kill_9_loses_no_acknowledged_purchase_and_the_stream_gets_each_once(room_server, tmp_path):
    record, config, base = room_server
    merchant = player(base, config.code, "Kim", ["merchant"])
    product = merchant.add_product("Kill Boot").headers["location"].split("added=")[1]
    buyers = [player(base, config.code, f"Buyer{n}", ["customer"]) for n in range(4)]
    acknowledged, stop = [], threading.Event()

    def buy(customer):
        token = customer.csrf()
        while not stop.is_set():
            try:
                answer = customer.client.post("/purchases", data={"csrf": token, "product": product})
            except httpx.TransportError:
                continue  # the server is gone: told nothing, so nothing is promised
            if answer.status_code == 303:
                acknowledged.append(int(answer.headers["x-room-position"]))

    workers = [threading.Thread(target=buy, args=(c,)) for c in buyers]
    for worker in workers:
        worker.start()
    while len(acknowledged) < 20:
        stop.wait(0.05)
    os.kill(record.pid, signal.SIGKILL)
    with contextlib.suppress(psutil.NoSuchProcess):
        psutil.Process(record.pid).wait(10)  # gone, and reaped: it was this process's child
    stop.set()
    for worker in workers:
        worker.join()

    restarted, _ = control.start(stage="test-room-kill", listen=f"127.0.0.1:{record.port}", report=lambda line: None)
    assert restarted.pid != record.pid
    log = control.room_events(control.folder() / "events.jsonl")
    assert len(set(acknowledged)) == len(acknowledged)  # no position was promised twice
    for position in acknowledged:
        assert log[position]["data"] == {"schema": "com.nordstrom/product/purchase/1-0-0", "id": product}

    kinesis = deploy.clients()["kinesis"]
    merchant.client.get("/me")  # the room answers again, with the same session
    for _ in range(100):
        on_stream = [event for _, _, event in stream.read_stream(kinesis, config.stream)]
        if len(on_stream) >= len(log):
            break
        stop.wait(0.2)
    assert sorted(map(repr, on_stream)) == sorted(map(repr, log))  # every event once: none lost, none twice

    exported = tmp_path / "room-day.jsonl"
    assert control.export(exported, report=lambda line: None) == len(log)
    assert list(eventlog.read_log(exported)) == log
    assert (tmp_path / "room-day.winners.json").is_file()
