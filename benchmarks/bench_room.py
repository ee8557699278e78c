"""A room under load: N simulated participants (100, then 300) play the shop against the room server
that ``room start`` runs, over loopback, for a bounded time, on the embedded AWS.

Each participant is an HTTP client of its own, from a loopback address of its own (127.0.x.y, as phones
on a Wi-Fi each have one), with a session cookie and the pages' CSRF tokens: a third merchants (three
products each, as in the live game), a third photographers (watching their assignment, sending a
1600x1200 phone JPEG), a third customers (a category page, a product page, a purchase, every few
seconds). An instructor's client holds the projector's event feed open.

Figures: purchase latency (POST to its 303, which comes after the fsync), p50 and p99; accepted actions
a second; the room server's CPU (a share of one core, from psutil); and the time from a purchase's
acknowledgement to the first projector message whose consumer board (the deployed winner API, fed by
the stream through the deployed consumer) counts it, p95. At the end of each round: nothing lost, the
room log = the stream = the reference winners = the API's winners. Then a round with ``kill -9`` of the
room server in the middle and a restart: every action a participant was told "done" is in the log, at
the position it was told, once, and the stream holds each event once.

Then the follow lag: 30 participants' followers (30 stages on the one embedded AWS, each follower with
its own Kinesis client, all in this process's threads) follow the room while a few participants play;
the figure is the time from an action's acknowledgement by the room to its record on a follower's
stream (the follower's cursor passing it, right after PutRecords answered), p50 and p95 over every
follower and action. At the end each stream holds the room log, each event once.

Talks to loopback addresses only, and stops by itself.
"""

import asyncio
import io
import json
import os
import random
import re
import signal
import tempfile
import time
from collections import Counter, defaultdict

import httpx2 as httpx
import psutil
from PIL import Image

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ROUNDS = ((100, 60.0), (300, 60.0))
QUICK_ROUNDS = ((20, 15.0),)
FOLLOWERS = 30


def run(quick):
    os.environ["HELLO_WINNERS_STATE_DIR"] = tempfile.mkdtemp(prefix="hw-bench-room-")
    from hello_winners import embedded
    from hello_winners.embedded import runtime
    from hello_winners.room import control

    rows = []
    try:
        for participants, seconds in QUICK_ROUNDS if quick else ROUNDS:
            rows += _rows(participants, seconds, asyncio.run(_round(f"bench-room-{participants}", participants,
                                                                      seconds)))
        participants, seconds = (20, 20.0) if quick else (100, 40.0)
        rows += _kill_rows(participants, asyncio.run(_round("bench-room-kill", participants, seconds, kill=True)))
        control.stop()
        rows += _follow_rows(*((10, 10.0) if quick else (FOLLOWERS, 30.0)))
    finally:
        control.stop()
        runtime.stop()
        embedded.stop()
    return rows


def _rows(n, seconds, found):
    buy = found["purchase_ms"]
    return [
        {"name": f"{n} participants, {seconds:.0f} s: purchase latency p50 ({len(buy)} purchases)",
         "figure": _percentile(buy, 50), "unit": "ms", "compared_with": "(fsync before the answer)"},
        {"name": f"{n} participants: purchase latency p99", "figure": _percentile(buy, 99), "unit": "ms",
         "compared_with": "target < 250 ms with 100 participants"},
        {"name": f"{n} participants: accepted actions a second", "figure": found["actions"] / found["seconds"],
         "unit": "actions/s", "compared_with": f"{found['refused']} refused (429 and others)"},
        {"name": f"{n} participants: room server CPU", "figure": found["cpu"], "unit": "% of a core",
         "compared_with": f"the driver (this process) used {found['driver_cpu']:.0f}% of a core"},
        {"name": f"{n} participants: purchase to projector, p95 ({found['seen']} of {len(buy)} seen)",
         "figure": _percentile(found["projector_s"], 95), "unit": "s",
         "compared_with": f"target < 3 s; p50 {_percentile(found['projector_s'], 50):.2f} s"},
        {"name": f"{n} participants: nothing lost (log = stream = reference = API)", "figure": found["verdict"],
         "unit": "", "compared_with": found["detail"]},
    ]


def _kill_rows(n, found):
    return [
        {"name": f"kill -9 mid-run ({n} participants): acknowledged actions missing after the restart",
         "figure": found["missing"], "unit": "actions", "compared_with": f"target 0 of {found['acknowledged']}"},
        {"name": "kill -9: positions promised twice + events on the stream twice",
         "figure": found["twice"] + found["stream_twice"], "unit": "", "compared_with": "target 0"},
        {"name": "kill -9: restart of the room server (room start)", "figure": found["restart_s"], "unit": "s",
         "compared_with": f"then: {found['verdict']} ({found['detail']})"},
    ]


def _follow_rows(count, seconds):
    """The room's log followed onto ``count`` stages' streams while six participants play: the lag from an
    action's acknowledgement to its record on a follower's stream."""
    import threading
    from collections import Counter

    from hello_winners import deploy
    from hello_winners.game import stream
    from hello_winners.room import follow, kit
    from hello_winners.events import encode
    from hello_winners.room import control
    from hello_winners.room.app import LOG_FILE
    from hello_winners.room.control import room_events
    from hello_winners.workshop import lessons

    record, config = control.start(stage="bench-follow-room", listen="127.0.0.1:0", fresh=True,
                                   report=lambda line: None)
    base = f"http://127.0.0.1:{record.port}"
    acked, stop = {}, threading.Event()
    followers, threads, landed = [], [], []
    for i in range(count):
        here = lessons.reach(stage_name=f"bench-follow-{i:02d}")
        lessons.ensure_stream(here)
        membership = _kit_from(base, config.code, f"Kit {i}", here.settings.stage, 600 + i)
        kinesis = deploy.clients("embedded", here.settings.stage)["kinesis"]  # its own, as each laptop has
        mine, made = [], {}

        def done(point, mine=mine, made=made):
            if point == "done":  # the batch is on the stream and the cursor has passed it
                mine.append((made["follower"].cursor.position, time.time()))

        client = kit.RoomClient(base, config.code, membership.token, source=f"127.0.{(600 + i) // 250 + 1}.{(600 + i) % 250 + 2}")
        made["follower"] = follow.Follower(membership, kinesis, here.stream, client=client, say=lambda line: None,
                                           hook=done)
        followers.append(made["follower"])
        landed.append(mine)
        threads.append(threading.Thread(target=made["follower"].run, args=(stop,), daemon=True))
    for thread in threads:
        thread.start()
    asyncio.run(_drive_for_followers(base, config.code, seconds, acked))
    end = len(room_events(control.folder() / LOG_FILE))
    deadline = time.monotonic() + 120
    while min(f.cursor.position for f in followers) < end and time.monotonic() < deadline:
        time.sleep(0.2)
    stop.set()
    lags = [next(t for p, t in mine if p > position) - at
            for position, at in acked.items() for mine in landed if any(p > position for p, _ in mine)]
    log = [encode(e) for e in room_events(control.folder() / LOG_FILE)]
    exact = sum(Counter(d for _, _, d in stream.read_records(f.kinesis, f.stream_name)) == Counter(log)
                for f in followers)
    for thread in threads:
        thread.join(15)
    control.stop()
    return [
        {"name": f"follow lag, {count} followers: action accepted to its record on a follower's stream, p50",
         "figure": _percentile(lags, 50), "unit": "s", "compared_with": f"{len(acked)} actions x {count} followers"},
        {"name": f"follow lag, {count} followers: p95", "figure": _percentile(lags, 95), "unit": "s",
         "compared_with": "(a long poll: no target set by the issue; the room's own pump is the bar)"},
        {"name": f"follow: streams holding exactly the room log ({len(log)} events)", "figure": exact,
         "unit": "streams", "compared_with": f"target {count} of {count}"},
    ]


def _kit_from(base, code, name, stage, i):
    """A laptop's kit joins from its own loopback address (joining is limited per address, as a room's Wi-Fi
    gives each laptop its own), as ``kit.join`` would."""
    from hello_winners.room import kit

    address = f"127.0.{i // 250 + 1}.{i % 250 + 2}"
    with httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30) as client:
        answer = client.post(f"{base}/api/kits", json={"code": code, "name": name})
    answer.raise_for_status()
    membership = kit.Membership(base, code, answer.json()["token"], name, stage, "embedded", share=False)
    membership.save()
    return membership


async def _drive_for_followers(base, code, seconds, acked):
    """Six participants, three merchants and three customers, for ``seconds``: each acknowledged action's
    position and time in ``acked``."""
    players = [_client(base, 900 + i) for i in range(6)]
    tally = Tally()
    for i, client in enumerate(players):
        await _join(client, code, f"Player {i}", "merchant" if i < 3 else "customer", tally)
    products, stop = [], time.monotonic() + seconds

    async def act(client, i):
        while time.monotonic() < stop:
            page = await client.get("/me")
            csrf = CSRF.search(page.text).group(1)
            if i < 3 or not products:
                answer = await client.post("/products", data={"csrf": csrf, "name": f"Boot {i}", "brand": "Northwind",
                                                              "description": "A boot.", "category": "Shoes"})
                if answer.status_code == 303:
                    products.append(answer.headers["location"].split("added=")[1])
            else:
                answer = await client.post("/purchases", data={"csrf": csrf, "product": random.choice(products)})
            if answer.status_code == 303:
                acked[int(answer.headers["x-room-position"])] = time.time()
            await asyncio.sleep(random.uniform(0.5, 1.5))

    await asyncio.gather(*(act(client, i) for i, client in enumerate(players)))
    for client in players:
        await client.aclose()


def _percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Tally:
    """What the participants saw: latencies, acknowledgements with their positions, refusals."""

    def __init__(self):
        self.purchase_ms, self.acks, self.refused, self.actions = [], [], Counter(), 0
        self.purchases = []  # (acknowledged at, position in the room log)


def _photo():
    out = io.BytesIO()
    Image.new("RGB", (1600, 1200), (40, 120, 160)).save(out, "JPEG", quality=90)
    return out.getvalue()


async def _round(stage, n, seconds, kill=False):
    from hello_winners.room import control

    record, config = await asyncio.to_thread(control.start, stage=stage, listen="127.0.0.1:0", fresh=True,
                                             photo_wait_s=60, report=lambda line: None)
    base = f"http://127.0.0.1:{record.port}"
    tally, stop, photo = Tally(), asyncio.Event(), _photo()
    clients = [_client(base, i) for i in range(n)]
    feed_log, merchants = [], {}
    feed = asyncio.create_task(_watch(base, config.instructor_token, feed_log, stop))
    server = psutil.Process(record.pid)
    cpu_before, driver_before, started = server.cpu_times(), psutil.Process().cpu_times(), time.monotonic()
    roles = ["merchant", "photographer", "customer"]
    joined = await asyncio.gather(*(_join(c, config.code, f"P{i:03d}", roles[i % 3], tally) for i, c in enumerate(clients)))
    for i, ok in enumerate(joined):
        if ok and roles[i % 3] == "merchant":
            merchants[f"P{i:03d}"] = True
    players = [asyncio.create_task(_play(c, roles[i % 3], f"P{i:03d}", tally, stop, photo))
               for i, c in enumerate(clients) if joined[i]]
    restart_s = None
    if kill:
        await asyncio.sleep(seconds / 2)
        os.kill(record.pid, signal.SIGKILL)
        await asyncio.to_thread(_reap, record.pid)
        cpu_before = None
        t = time.monotonic()
        record, _ = await asyncio.to_thread(control.start, stage=stage, listen=f"127.0.0.1:{record.port}",
                                            photo_wait_s=60, report=lambda line: None)
        restart_s = time.monotonic() - t
        server = psutil.Process(record.pid)
        await asyncio.sleep(seconds / 2)
    else:
        await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*players, return_exceptions=True)
    elapsed = time.monotonic() - started
    cpu = server.cpu_times()
    cpu_s = (cpu.user + cpu.system) - ((cpu_before.user + cpu_before.system) if cpu_before else 0)
    driver = psutil.Process().cpu_times()
    found = await asyncio.to_thread(_settle, base, config)
    await asyncio.sleep(2.5)  # the projector's last messages
    feed.cancel()
    await asyncio.gather(feed, return_exceptions=True)
    for client in clients:
        await client.aclose()
    projector = _to_projector(tally, feed_log, found["log"])
    result = {"purchase_ms": tally.purchase_ms, "actions": tally.actions, "seconds": elapsed,
              "refused": sum(tally.refused.values()), "cpu": 100 * cpu_s / elapsed,
              "driver_cpu": 100 * ((driver.user + driver.system) - (driver_before.user + driver_before.system)) / elapsed,
              "projector_s": projector, "seen": len(projector), **found}
    if kill:
        result.update(_after_kill(tally, found["log"]), restart_s=restart_s)
    return result


def _client(base, i):
    address = f"127.0.{i // 250 + 1}.{i % 250 + 2}"
    transport = httpx.AsyncHTTPTransport(local_address=address, retries=0)
    return httpx.AsyncClient(base_url=base, transport=transport, timeout=30)


async def _join(client, code, name, role, tally):
    try:
        page = await client.get("/join")
        answer = await client.post("/join", data={"csrf": CSRF.search(page.text).group(1), "code": code,
                                                  "name": name, "roles": [role]})
    except httpx.TransportError:
        return False
    if answer.status_code == 303:
        tally.actions += 1
        return True
    tally.refused[answer.status_code] += 1
    return False


async def _play(client, role, name, tally, stop, photo):
    rng = random.Random(name)
    await asyncio.sleep(rng.uniform(0, 2))
    token, added = None, 0
    while not stop.is_set():
        try:
            token = token or CSRF.search((await client.get("/me")).text).group(1)
            if role == "merchant" and added < 3:
                answer = await client.post("/products", data={
                    "csrf": token, "name": f"{name}'s boot {added}", "brand": "Northwind",
                    "description": "A boot for the benchmark.", "category": rng.choice(["Shoes", "Tops", "Jeans"])})
                added += _ack(answer, tally)
                await asyncio.sleep(rng.uniform(3, 8))
            elif role == "photographer":
                product = (await client.get("/api/assignment")).json()["product"]
                if product:
                    answer = await client.post(f"/photos/{product}", data={"csrf": token},
                                               files={"photo": ("IMG.jpg", photo, "image/jpeg")})
                    _ack(answer, tally)
                await asyncio.sleep(rng.uniform(1.5, 2.5))
            elif role == "customer":
                shop = await client.get(f"/shop?category={rng.choice(['Shoes', 'Tops', 'Jeans'])}")
                found = re.findall(r'href="/products/([^"]+)"', shop.text)
                if found:
                    product = rng.choice(found)
                    await client.get(f"/products/{product}")
                    t = time.monotonic()
                    answer = await client.post("/purchases", data={"csrf": token, "product": product})
                    if _ack(answer, tally):
                        tally.purchase_ms.append(1000 * (time.monotonic() - t))
                        tally.purchases.append((time.monotonic(), int(answer.headers["x-room-position"])))
                await asyncio.sleep(rng.uniform(2, 4))
            else:
                await asyncio.sleep(5)
        except (httpx.TransportError, AttributeError):
            token = None  # the server is gone (killed) or answered oddly: try again in a moment
            await asyncio.sleep(0.5)


def _ack(answer, tally):
    """Count an answer; True when the action was accepted (a 303 with its position in the room log)."""
    if answer.status_code == 303 and "x-room-position" in answer.headers:
        tally.actions += 1
        tally.acks.append((int(answer.headers["x-room-position"]), answer.request.url.path))
        return True
    if answer.status_code != 303:
        tally.refused[answer.status_code] += 1
    return False


async def _watch(base, token, into, stop):
    """Hold the projector's feed open, keeping (arrival time, merchant board as {name: score})."""
    async with httpx.AsyncClient(timeout=None) as client:
        while True:
            try:
                async with client.stream("GET", base + "/projector/feed",
                                         headers={"Authorization": f"Bearer {token}"}) as answer:
                    async for line in answer.aiter_lines():
                        if line.startswith("data:"):
                            message = json.loads(line[5:])
                            boards = message["consumer"]["boards"] or {}
                            into.append((time.monotonic(), {e["name"]: e["score"] for e in boards.get("merchant", [])}))
            except (httpx.TransportError, httpx.HTTPStatusError):
                await asyncio.sleep(0.5)


def _to_projector(tally, feed_log, log):
    """Seconds from each acknowledged purchase to the first projector message whose consumer board gives its
    merchant at least as many sales as the room log had given them up to that purchase."""
    counts, kth = defaultdict(int), {}
    for position, event in enumerate(log):
        if event["data"]["schema"].endswith("/purchase/1-0-0"):
            kth[position] = event["data"]["id"]
    owner = {e["data"]["id"]: e["origin"].split("/")[3] for e in log if e["data"]["schema"].endswith("/create/1-0-0")}
    needed = {}
    for position in sorted(kth):
        merchant = owner.get(kth[position])
        counts[merchant] += 1
        needed[position] = (merchant, counts[merchant])
    delays = []
    for at, position in tally.purchases:
        merchant, count = needed.get(position, (None, 0))
        seen = next((when for when, board in feed_log if when >= at and board.get(merchant, 0) >= count), None)
        if seen is not None:
            delays.append(seen - at)
    return delays


def _settle(base, config):
    """Wait for the pump and the consumer to catch up, then compare the room log, the stream, the reference
    winners and the API's winners."""
    from hello_winners import deploy, targets
    from hello_winners.embedded import runtime
    from hello_winners.game import reference, stream
    from hello_winners.room import control

    status = _wait_for_pump(base, config.instructor_token)
    runtime.drain(timeout_s=300)
    log = control.room_events(control.folder() / "events.jsonl")
    kinesis = deploy.clients(stage=config.stage)["kinesis"]
    on_stream = [data for _, _, data in stream.read_records(kinesis, config.stream)]
    from hello_winners import events

    same_stream = Counter(on_stream) == Counter(events.encode(e) for e in log)
    truth = reference.winners(log)
    api_url = targets.get().api_url(config.api_id, config.region)
    import urllib.request

    api = {}
    for role in ("merchant", "photographer"):
        with urllib.request.urlopen(f"{api_url}/scores?role={role}&limit=100", timeout=30) as answer:
            api[role] = [(e["userId"], e["score"]) for e in json.load(answer)["scores"]]
    same_api = all(api[r] == [(e["userId"], e["score"]) for e in truth[r][:100]] for r in api)
    twice = sum(c - 1 for c in Counter(on_stream).values() if c > 1)
    verdict = "yes" if same_stream and same_api and status["waiting"] == 0 else "NO"
    detail = (f"{len(log)} events in the log, {len(on_stream)} on the stream ({twice} twice), "
              f"{sum(e['score'] for e in truth['merchant'])} sales; API = reference: {same_api}")
    return {"log": log, "verdict": verdict, "detail": detail, "stream_twice": twice}


def _wait_for_pump(base, token, timeout_s=120):
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while True:
        request = urllib.request.Request(base + "/api/status", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            pump = json.load(answer)["pump"]
        if pump["waiting"] == 0 or time.monotonic() > deadline:
            return pump
        time.sleep(0.2)


def _after_kill(tally, log):
    """Every acknowledged action's event at its position; no position promised twice; nothing on the stream twice."""
    kinds = {"/products": "/create/", "/purchases": "/purchase/", "/photos/": "/image/"}
    missing = 0
    for position, path in tally.acks:
        kind = next(k for prefix, k in kinds.items() if path.startswith(prefix))
        if position >= len(log) or kind not in log[position]["data"]["schema"]:
            missing += 1
    positions = [p for p, _ in tally.acks]
    return {"missing": missing, "acknowledged": len(tally.acks),
            "twice": len(positions) - len(set(positions))}


def _reap(pid):
    try:
        psutil.Process(pid).wait(10)
    except psutil.NoSuchProcess:
        pass
