"""Followers: the room's log on each participant's own stream, exactly once, through kills, a room server that
restarts, and three participants' kits that each deploy the consumer (embedded tier: the suite's embedded AWS,
the room served over real HTTP on loopback).

Exactly once is checked on the stream itself, never on the follower's word: every event of the room log is
on the participant's stream once, none is missing, nothing else is there, and each shard holds its events in
the room log's order.
"""

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from room_players import Served, http_player, new_config, photo_with_gps

from hello_winners import events
from hello_winners.deploy import teardown
from hello_winners.game import stream
from hello_winners.room import follow, kit
from hello_winners.room.app import LOG_FILE
from hello_winners.room.durable import AppendLog
from hello_winners.workshop import lessons

pytestmark = pytest.mark.embedded


class Killed(BaseException):
    """A kill at this instant: nothing after it runs, in the follower or in the call it was making."""


class Chaos:
    """Kills the follower at random points: at its own hooks (after the pending batch is written, after the
    put, after the cursor moved), inside a PutRecords (some of the batch put, then dead), and during the
    read-back that reconciles. Stops after ``kills``; ``where`` records each one."""

    def __init__(self, kinesis, kills, seed, chance=0.3):
        self.kinesis, self.left, self.random, self.chance = kinesis, kills, random.Random(seed), chance
        self.where = []

    def _maybe(self, point):
        if self.left and self.random.random() < self.chance:
            self.left -= 1
            self.where.append(point)
            raise Killed(point)

    def hook(self, point):
        self._maybe(point)

    def __getattr__(self, name):
        return getattr(self.kinesis, name)

    def put_records(self, StreamName, Records):
        if self.left and self.random.random() < self.chance and len(Records) > 1:
            self.kinesis.put_records(StreamName=StreamName, Records=Records[: len(Records) // 2])
            self.left -= 1
            self.where.append("inside PutRecords")
            raise Killed("inside PutRecords")
        return self.kinesis.put_records(StreamName=StreamName, Records=Records)

    def get_records(self, **kwargs):
        self._maybe("reading back")
        return self.kinesis.get_records(**kwargs)


class Actions:
    """Participants playing over HTTP in a thread: merchants add products, customers buy them, until stopped."""

    def __init__(self, base, code, names=("Ana", "Bo", "Cy", "Dee")):
        self.players = [http_player(base, code) for _ in names]
        for player, name in zip(self.players, names):
            assert player.join(name, ["merchant", "customer"]).status_code == 303
        self.products, self.stop, self.thread = [], threading.Event(), None

    def play(self, seconds):
        self.stop.clear()
        self.thread = threading.Thread(target=self._run, args=(time.monotonic() + seconds,), daemon=True)
        self.thread.start()
        return self

    def _run(self, until):
        turn = 0
        while not self.stop.is_set() and time.monotonic() < until:
            player = self.players[turn % len(self.players)]
            if turn % 3 == 0 or not self.products:
                added = player.add_product(f"Boot {turn}")
                if added.status_code == 303:
                    self.products.append(added.headers["location"].split("added=")[1])
            else:
                player.buy(self.products[turn * 7 % len(self.products)])
            turn += 1
            time.sleep(0.12)

    def wait(self):
        self.stop.set()
        self.thread.join(60)


@pytest.fixture
def stage_here(embedded_server, request):
    """A participant's stage with its stream (created as lesson 1 does), torn down afterwards."""
    name = "test-follow-" + request.node.name.split("_")[1][:8]
    here = lessons.reach(stage_name=name)
    lessons.ensure_stream(here)
    yield here
    teardown.teardown(here.clients, here.prefix, here.settings.stage, report=lambda line: None)


@pytest.fixture
def served(tmp_path):
    room_folder = tmp_path / "room"
    with Served(room_folder, new_config(room_folder)) as made:
        yield made


def room_lines(folder):
    return [events.encode(events.decode(line)) for line in AppendLog(folder / LOG_FILE).read()]


def assert_stream_holds_the_log(kinesis, stream_name, lines):
    assert len(set(lines)) == len(lines), "the room log's events are not all different: the check would be blind"
    found = list(stream.read_records(kinesis, stream_name))
    on_stream = Counter(data for _, _, data in found)
    assert on_stream == Counter(lines), (f"{sum((on_stream - Counter(lines)).values())} extra or twice, "
                                         f"{sum((Counter(lines) - on_stream).values())} missing")
    where = {line: position for position, line in enumerate(lines)}
    for shard in {shard for shard, _, _ in found}:
        order = [where[data] for s, _, data in found if s == shard]
        assert order == sorted(order), f"{shard} holds the room's events out of the room log's order"


def caught_up(follower, end, timeout=60):
    deadline = time.monotonic() + timeout
    while follower.cursor.position < end or follower.cursor.pending is not None:
        assert time.monotonic() < deadline, f"the follower is at {follower.cursor.position} of {end}"
        follower.step(wait=0.2)


def test_killed_at_fifty_random_points_and_restarted_it_puts_every_event_once(stage_here, served, tmp_path):
    kinesis, name = stage_here.clients["kinesis"], stage_here.stream
    membership = kit.join(served.base, served.config.code, "Kim", stage_here.settings.stage, "embedded")
    here = kit.folder(membership.stage)
    chaos = Chaos(kinesis, kills=50, seed=int(os.environ.get("FOLLOW_SEED", "26")))
    actions = Actions(served.base, served.config.code).play(seconds=600)
    restarts = 0
    try:
        while chaos.left:  # in-process kills: a Killed unwinds the follower from the point it was at
            follower = follow.Follower(membership, chaos, name, here, wait_s=0.1, settle_s=0.0, hook=chaos.hook,
                                       say=lambda line: None)
            restarts += 1
            try:
                for _ in range(200):
                    follower.step(wait=0.1)
            except Killed:
                continue
    finally:
        actions.wait()
    assert len(chaos.where) == 50 and restarts >= 50
    assert {"pending", "put", "done", "reading back"} <= set(chaos.where), chaos.where  # and, as it falls, inside a put

    # Then real kills: the command itself, SIGKILLed at random instants while the room keeps playing.
    actions.play(seconds=600)
    command = [sys.executable, "-m", "hello_winners", "room", "follow", served.base, "--code", served.config.code,
               "--name", "Kim", "--stage", membership.stage, "--no-share-progress"]
    rng = random.Random(7)
    try:
        for _ in range(3):
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(rng.uniform(2.0, 4.0))
            assert process.poll() is None, process.stderr.read().decode()
            process.send_signal(signal.SIGKILL)
            process.wait(10)
    finally:
        actions.wait()
    lines = room_lines(served.folder)
    final = follow.Follower(membership, kinesis, name, here, wait_s=0.1, say=lambda line: None)
    caught_up(final, len(lines))
    assert len(lines) > 60, "the room hardly played while the follower was being killed"
    assert_stream_holds_the_log(kinesis, name, lines)


def test_a_room_server_that_stops_for_a_while_is_waited_for_and_caught_up(stage_here, served):
    kinesis, name = stage_here.clients["kinesis"], stage_here.stream
    membership = kit.join(served.base, served.config.code, "Lou", stage_here.settings.stage, "embedded")
    said, stop = [], threading.Event()
    follower = follow.Follower(membership, kinesis, name, wait_s=1.0, say=said.append)
    running = threading.Thread(target=follower.run, args=(stop,), daemon=True)
    running.start()
    actions = Actions(served.base, served.config.code, names=("Ana", "Bo")).play(seconds=3)
    actions.thread.join(30)
    served.stop()  # mid-follow: the follower's next read finds nobody
    time.sleep(4)
    assert follow.running(kit.folder(membership.stage))
    assert follow.describe(membership.stage)[1].startswith("  waiting for the room")
    served.start()  # the same room, read back from its folder, on the same port
    more = Actions(served.base, served.config.code, names=("Cy",)).play(seconds=2)
    more.thread.join(30)
    lines = room_lines(served.folder)
    deadline = time.monotonic() + 60
    while follower.cursor.position < len(lines):
        assert time.monotonic() < deadline, said
        time.sleep(0.2)
    stop.set()
    running.join(30)
    assert_stream_holds_the_log(kinesis, name, lines)
    waiting = [line for line in said if line.startswith("waiting for the room")]
    assert len(waiting) == 1, said  # said once, however many tries it took
    assert any("answers again" in line for line in said), said
    status = follow.describe(membership.stage)
    assert "no follower runs now" in status[0]


def play_a_round(base, code):
    """A small day in the room: two merchants' products, photographed by the photographer the room assigns
    each to, bought by two customers (some twice)."""
    mia, finn, cy, dee = (http_player(base, code) for _ in range(4))
    mia.join("Mia", ["merchant"]), dee.join("Dee", ["merchant", "customer"])
    finn.join("Finn", ["photographer"]), cy.join("Cy", ["customer"])
    products = [merchant.add_product(f"Boot {i}").headers["location"].split("added=")[1]
                for i, merchant in enumerate([mia, mia, dee])]
    for _ in products:
        assigned = finn.assigned()
        assert assigned and finn.upload(assigned, photo_with_gps(size=(320, 240))).status_code == 303
    for buyer, product in [(cy, products[0]), (cy, products[0]), (dee, products[1]), (cy, products[2]),
                           (cy, products[0])]:
        assert buyer.buy(product).status_code == 303


def test_three_kits_follow_one_room_deploy_the_lessons_consumer_and_find_the_rooms_winners(embedded_server, served):
    """Three participants' kits, each with its own stage and its own follow folder (a state folder of its own but
    for the embedded AWS it records, which the three share here), on the suite's embedded AWS."""
    import json
    import urllib.request

    from hello_winners import deploy
    from hello_winners.game import reference
    from hello_winners.workshop import inroom, play
    from hello_winners.workshop.exercises import solutions as s

    play_a_round(served.base, served.config.code)
    room_events = [events.decode(line) for line in room_lines(served.folder)]
    expected = reference.winners(room_events)
    stages = [f"test-kit-{letter}" for letter in "abc"]
    said = []  # what lesson 1's and lesson 4's room cells say to Ana, whose kit joins through them
    try:
        for stage_name, name in zip(stages, ["Ana", "Bo", "Cy"]):
            if name == "Ana":  # lesson 1's cell, with the join address the projector shows
                joined = inroom.follow_room(lessons.setup(1, stage_name=stage_name, report=lambda line: None),
                                            f"{served.base}/join?code={served.config.code.lower()}", name="Ana",
                                            share=False, say=said.append)
                assert joined.name == "Ana" and joined.share is False
            else:
                kit.join(served.base, served.config.code, name, stage_name, "embedded")
            here = lessons.setup(3, stage_name=stage_name, report=lambda line: None)  # the stream; a follower starts
            names, clients, tags = here.names, here.clients, here.settings.tags
            role = s.create_role(clients["iam"], names, s.consumer_policy(names), tags)  # lesson 3, as solved
            s.create_function(clients["lambda"], names, role, s.build_zip(), tags)
            s.connect_stream(clients["lambda"], names)
        for stage_name in stages:
            status = kit.folder(stage_name) / kit.STATUS_FILE
            deadline = time.monotonic() + 60
            while not status.exists() or json.loads(status.read_text())["on_stream"] < len(room_events):
                assert time.monotonic() < deadline, f"{stage_name}'s follower never caught up"
                time.sleep(0.2)
            outputs = deploy.deploy("embedded", stage_name, report=lambda line: None)  # lesson 3's API step
            play.wait_until_consumed("embedded", lessons.reach(stage_name=stage_name).clients, outputs,
                                     report=lambda line: None)
            boards = {}
            for role_name in events.ROLES:
                with urllib.request.urlopen(f"{outputs.api_url}/scores?role={role_name}&limit=100", timeout=30) as r:
                    boards[role_name] = json.load(r)["scores"]
                found = [(row["userId"], row["score"]) for row in boards[role_name]]
                assert found == [(row["userId"], row["score"]) for row in expected[role_name]], (stage_name, role_name)
            if stage_name == stages[0]:  # lesson 1's arrivals and lesson 4's boards, against the live room
                here = lessons.reach(stage_name=stage_name)
                assert inroom.arrivals(here, seconds=0, say=said.append) == 0
                frame = inroom.compare(here, boards, say=said.append)
                assert frame["same"].all() and len(frame) == sum(len(expected[r][:10]) for r in events.ROLES)
    finally:
        inroom.stop_following()
        for stage_name in stages:
            here = lessons.reach(stage_name=stage_name)
            teardown.teardown(here.clients, here.prefix, here.settings.stage, report=lambda line: None)
    assert expected["merchant"][0]["name"] == "Mia" and expected["photographer"][0]["name"] == "Finn"
    code = served.config.code
    stream_name = f"hw-{stages[0]}-retail-stream"
    cells = [f"following room {code} as Ana: its events arrive on {stream_name}; your progress stays here",
             f"{len(room_events)} events of room {code} are on your stream; watching for 0 s",
             "Your leaderboard is the room's: the same people, with the same scores."]
    lines = iter(said)  # in this order, between the lines of the follower the first cell started in the kernel
    assert all(line in lines for line in cells), said
    assert f"following the room {code} at {served.base} onto {stream_name}" in said
