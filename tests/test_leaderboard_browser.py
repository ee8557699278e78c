"""The leaderboard page in headless Chromium, served by the local endpoint from a real moto server,
and end to end: purchases put on the stream, applied by the deployed consumer, seen by the open page.

Chromium is driven over the DevTools protocol (a websocket, through websocket-client), so the test sees
what the room sees: rendered rows, updates without a reload, the stale-data message. Screenshots go to
artifacts/ (git-ignored) for a human look at 1920x1080.
"""

import base64
import json
import shutil
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import websocket  # websocket-client, which jupyter_server already depends on
from needs import need

from hello_winners import events, targets
from hello_winners.embedded import runtime
from hello_winners.game import stream
from hello_winners.view import api, tables
from hello_winners.embedded.local_api import LocalApi

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WIDTH, HEIGHT = 1920, 1080

pytestmark = pytest.mark.embedded


@pytest.fixture(autouse=True)
def _chromium():
    need(CHROMIUM, "Chromium", "`apt-get install chromium` (.ci/run installs it)")


class Browser:
    """One headless Chromium page, spoken to through the DevTools protocol."""

    def __init__(self, profile):
        self.process = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-extensions", "--mute-audio", "--hide-scrollbars", f"--window-size={WIDTH},{HEIGHT}",
             f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        port = self._devtools_port(profile / "DevToolsActivePort")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            page = next(target for target in json.load(answer) if target["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self._last_id = 0
        self.send("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False)

    def _devtools_port(self, path, timeout=30.0):
        deadline = time.monotonic() + timeout
        while not (path.is_file() and path.read_text().strip()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Chromium did not open its DevTools port (exit code {self.process.poll()})")
            time.sleep(0.05)
        return int(path.read_text().split()[0])

    def send(self, method, **params):
        self._last_id += 1
        self.socket.send(json.dumps({"id": self._last_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self._last_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def open(self, url):
        """Navigate to ``url`` and wait until its document has loaded."""
        self.send("Page.navigate", url=url)
        self.wait_for(f"location.href === {json.dumps(url)} && document.readyState === 'complete'")

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=30.0):
        """Poll until ``expression`` is truthy; fail with the page's status line when it never is."""
        deadline = time.monotonic() + timeout
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                status = self.evaluate("document.getElementById('status')?.textContent")
                pytest.fail(f"the page never showed {expression} (its status line: {status!r})")
            time.sleep(0.1)

    def screenshot(self, path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))

    def close(self):
        self.socket.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# What a board shows, row by row, read from the DOM.
BOARD = """[...document.querySelectorAll('#{role} .row')].map(row => ({{
  userId: row.dataset.userId,
  name: row.querySelector('.name').textContent,
  score: Number(row.querySelector('.score').textContent),
  rank: Number(row.querySelector('.rank').textContent),
  leader: row.classList.contains('leader'),
}}))"""


@pytest.fixture
def dynamodb(embedded_server):
    return targets.client("dynamodb", "embedded")


@pytest.fixture
def env(dynamodb):
    """Tables of a stage of the test's own on the embedded server (in the default participant's namespace, whose
    keys the page's API signs with), deleted afterwards."""
    created = tables.create(dynamodb, f"hw-test-page{uuid.uuid4().hex[:8]}-")
    yield created
    for name in created.values():
        dynamodb.delete_table(TableName=name)


@pytest.fixture
def local(as_participant, env, monkeypatch):
    """The winner API behind the local endpoint, reading the test's tables over HTTP."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(api, "_client", None)
    with LocalApi(lambda event: api.handler(event, None)) as running:
        yield running


@pytest.fixture
def browser(tmp_path):
    opened = Browser(tmp_path / "profile")
    yield opened
    opened.close()


def settle(browser):
    """Let the page's animations finish, so that a screenshot shows what the room sees between updates."""
    browser.evaluate("new Promise(done => setTimeout(done, 1500))")


def put_scores(dynamodb, env, rows):
    """Store Scores items from (userId, role, score, name) rows, as the consumer would."""
    table = targets.get("embedded").session().resource("dynamodb", endpoint_url=dynamodb.meta.endpoint_url)
    with table.Table(env[tables.SCORES]).batch_writer() as batch:
        for user_id, role, score, name in rows:
            batch.put_item(Item={"userId": user_id, "role": role, "score": score, "name": name})


def test_the_page_shows_the_winners_and_follows_the_scores_without_a_reload(dynamodb, env, local, browser):
    put_scores(dynamodb, env, [
        ("ana", "merchant", 5, "Ana"), ("bo", "merchant", 3, "Bo"),
        ("cy", "photographer", 4, "Cy"), ("dee", "photographer", 4, "Dee"), ("eve", "photographer", 1, "Eve"),
    ])
    browser.open(local.url + "/?refresh=1")
    browser.wait_for("document.body.dataset.state === 'live'")
    assert browser.evaluate(BOARD.format(role="merchant")) == [
        {"userId": "ana", "name": "Ana", "score": 5, "rank": 1, "leader": True},
        {"userId": "bo", "name": "Bo", "score": 3, "rank": 2, "leader": False},
    ]
    assert [(r["name"], r["rank"], r["leader"]) for r in browser.evaluate(BOARD.format(role="photographer"))] == [
        ("Cy", 1, True), ("Dee", 1, True), ("Eve", 3, False)]
    assert browser.evaluate("document.getElementById('status').textContent").startswith("Live · updated ")

    browser.evaluate("window.sameDocument = true")
    put_scores(dynamodb, env, [("bo", "merchant", 8, "Bo")])
    browser.wait_for("document.querySelector('#merchant .row.leader .name').textContent === 'Bo'")
    assert browser.evaluate("window.sameDocument") is True
    assert [(r["name"], r["score"]) for r in browser.evaluate(BOARD.format(role="merchant"))] == [
        ("Bo", 8), ("Ana", 5)]
    settle(browser)
    browser.screenshot(ARTIFACTS / "leaderboard.png")

    local.stop()
    browser.wait_for("document.body.dataset.state === 'stale'")
    assert browser.evaluate("document.getElementById('status').textContent").startswith(
        "Not live · scores of ")
    assert "the API cannot be reached: no connection" in browser.evaluate("document.getElementById('status').title")
    assert [r["name"] for r in browser.evaluate(BOARD.format(role="merchant"))] == ["Bo", "Ana"]
    browser.screenshot(ARTIFACTS / "leaderboard-stale.png")


ODD_NAMES = [
    '<img src=x onerror="window.pwned = 1">',
    "Bartholomew " * 30,
    "محمد الأمين",
    "Zoë & \"the\" Ünïcødé crew",
]


def test_a_thousand_names_stay_readable_on_one_screen(dynamodb, env, local, browser):
    rows = [(f"m{i:04d}", "merchant", 1 + i % 40, f"Merchant {i}") for i in range(1000)]
    rows += [(f"p{i:04d}", "photographer", 1 + i % 37, f"Photographer {i}") for i in range(1000)]
    rows += [(f"odd{i}", "merchant", 100 - i, name) for i, name in enumerate(ODD_NAMES)]
    put_scores(dynamodb, env, rows)
    browser.open(local.url + "/")
    browser.wait_for("document.body.dataset.state === 'live'")
    settle(browser)
    browser.screenshot(ARTIFACTS / "leaderboard-1000.png")
    merchants = browser.evaluate(BOARD.format(role="merchant"))
    assert len(merchants) == 15 and len(browser.evaluate(BOARD.format(role="photographer"))) == 15
    assert [r["name"] for r in merchants[:4]] == ODD_NAMES
    assert browser.evaluate("document.querySelector('#merchant .more').textContent") == (
        "… and 85+ more merchants with sales")
    assert browser.evaluate("document.querySelectorAll('img').length === 0 && window.pwned === undefined")
    # Nothing spills: no scrolling at 1920x1080, the long name is cut inside its board.
    assert browser.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert browser.evaluate("document.documentElement.scrollHeight <= innerHeight")
    assert browser.evaluate("""(() => {
      const name = document.querySelectorAll('#merchant .name')[1];
      const board = document.getElementById('merchant').getBoundingClientRect();
      return name.scrollWidth > name.clientWidth && name.getBoundingClientRect().right <= board.right;
    })()""")


def test_before_any_sale_both_boards_say_so(local, browser):
    browser.open(local.url + "/")
    browser.wait_for("document.body.dataset.state === 'live'")
    assert browser.evaluate("[...document.querySelectorAll('.board')].map(b => b.innerText.split('\\n').pop())") == [
        "Nobody has sold anything yet.", "Nobody has sold anything yet."]


@pytest.fixture
def deployed(embedded_server):
    """A whole stage on the embedded AWS: stream, consumer, tables, API, served by the local runtime."""
    from hello_winners import deploy
    from hello_winners.deploy import teardown

    settings = targets.settings(stage="browser")
    outputs = deploy.deploy(stage=settings.stage, report=lambda line: None)
    yield outputs
    teardown.teardown(deploy.clients(stage=settings.stage), settings.prefix, settings.stage, report=lambda line: None)
    runtime.sync()


def added_by(merchant, product):
    return events.product_create(merchant, merchant.title(), product, brand="B", name="N", description="D",
                                 category="Shoes")


def test_purchases_put_on_the_stream_reach_the_open_page_through_the_consumer(deployed, browser):
    from hello_winners import deploy

    kinesis = deploy.clients(stage="browser")["kinesis"]
    seed = [added_by("ana", "p1"), added_by("bo", "p2"), events.product_image("cy", "Cy", "p1", "https://img/1"),
            events.product_image("dee", "Dee", "p2", "https://img/2"),
            *[events.product_purchase("c1", "Customer", "p1") for _ in range(3)],
            events.product_purchase("c2", "Customer", "p2")]
    stream.put_events(kinesis, deployed.stream, seed)
    runtime.drain(timeout_s=120)
    browser.open(deployed.api_url + "/?refresh=1")
    browser.wait_for("document.body.dataset.state === 'live'")
    assert [(r["name"], r["score"], r["leader"]) for r in browser.evaluate(BOARD.format(role="merchant"))] == [
        ("Ana", 3, True), ("Bo", 1, False)]
    assert [(r["name"], r["score"]) for r in browser.evaluate(BOARD.format(role="photographer"))] == [
        ("Cy", 3), ("Dee", 1)]

    browser.evaluate("window.sameDocument = true")
    stream.put_events(kinesis, deployed.stream, [events.product_purchase("c3", "Customer", "p2") for _ in range(4)])
    browser.wait_for("document.querySelector('#merchant .row.leader .name').textContent === 'Bo'", timeout=60)
    assert browser.evaluate("window.sameDocument") is True
    assert [(r["name"], r["score"]) for r in browser.evaluate(BOARD.format(role="photographer"))] == [
        ("Dee", 5), ("Cy", 3)]
    settle(browser)
    browser.screenshot(ARTIFACTS / "leaderboard-live.png")
